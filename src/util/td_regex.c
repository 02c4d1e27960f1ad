/* Bounds a POSIX ERE before compiling it: a recursive-descent walk over the
 * ERE grammar (alternation of branches, branches of pieces, pieces of an
 * atom and repetitions) that estimates the pattern's size with every
 * {m,n} written out, the way glibc's regcomp expands it. Syntax errors are
 * left to regcomp, which reports them; the walk only has to be right about
 * sizes. */
#include "td_regex.h"

#include <stdio.h>
#include <string.h>

typedef struct re_walk {
    const char *p, *end;
    int depth;
    char why[160];  /* set on refusal */
} re_walk;

#define OVER (TD_REGEX_MAX_EXPANDED + 1)

/* Sizes saturate just past the bound, so they never overflow. */
static long cap(long v)
{
    return v > OVER ? OVER : v;
}

static long walk_alt(re_walk *w);

/* Skips a bracket expression: '[' '^'? ']'? then anything up to ']', where
 * [:class:], [=x=] and [.x.] may hold a ']'. */
static void skip_bracket(re_walk *w)
{
    w->p++;
    if (w->p < w->end && *w->p == '^')
        w->p++;
    if (w->p < w->end && *w->p == ']')
        w->p++;
    while (w->p < w->end && *w->p != ']') {
        if (*w->p == '[' && w->p + 1 < w->end &&
            (w->p[1] == ':' || w->p[1] == '=' || w->p[1] == '.')) {
            char kind = w->p[1];
            const char *q = w->p + 2;
            while (q + 1 < w->end && !(q[0] == kind && q[1] == ']'))
                q++;
            w->p = q + 1 < w->end ? q + 2 : w->end;
            continue;
        }
        w->p++;
    }
    if (w->p < w->end)
        w->p++;
}

/* A count of a {m,n}, or -1 when no digit is there; values past the bound
 * stop growing. */
static long read_count(re_walk *w)
{
    long v = -1;
    while (w->p < w->end && *w->p >= '0' && *w->p <= '9') {
        v = (v < 0 ? 0 : v) * 10 + (*w->p++ - '0');
        if (v > 1000000)
            v = 1000000;
    }
    return v;
}

/* One {m}, {m,}, {,n} (glibc: {0,n}) or {m,n} after an operand of size a:
 * glibc makes n copies ({m,}: m copies and a star). A '{' that starts no
 * bound is left as it is (regcomp decides). */
static long repeat(re_walk *w, long a)
{
    w->p++;
    long m = read_count(w), n = m;
    if (m < 0 && !(w->p < w->end && *w->p == ','))
        return cap(a + 1);
    if (m < 0)
        m = n = 0;
    if (w->p < w->end && *w->p == ',') {
        w->p++;
        n = read_count(w);
        if (n < 0)
            n = m + 1;
    }
    if (w->p < w->end && *w->p == '}')
        w->p++;
    long big = m > n ? m : n;
    if (big > TD_REGEX_MAX_REPEAT) {
        snprintf(w->why, sizeof w->why, "the repetition count %ld exceeds %d",
                 big, TD_REGEX_MAX_REPEAT);
        return -1;
    }
    return cap(a * (big ? big : 1) + 1);
}

static long walk_piece(re_walk *w)
{
    long a = 1;
    char c = *w->p;
    if (c == '(') {
        if (++w->depth > TD_REGEX_MAX_DEPTH) {
            snprintf(w->why, sizeof w->why, "groups nest deeper than %d",
                     TD_REGEX_MAX_DEPTH);
            return -1;
        }
        w->p++;
        long inner = walk_alt(w);
        if (inner < 0)
            return -1;
        if (w->p < w->end && *w->p == ')')
            w->p++;
        w->depth--;
        a = cap(inner + 1);
    } else if (c == '[') {
        skip_bracket(w);
    } else if (c == '\\' && w->p + 1 < w->end) {
        w->p += 2;
    } else if (c == '{') {  /* a bound with no operand: checked all the same */
        a = repeat(w, 1);
    } else {
        w->p++;
    }
    while (w->p < w->end && a >= 0) {
        c = *w->p;
        if (c == '*' || c == '?') {
            w->p++;
            a = cap(a + 1);
        } else if (c == '+') {  /* a+ is built as a a* */
            w->p++;
            a = cap(2 * a + 1);
        } else if (c == '{') {
            a = repeat(w, a);
        } else {
            break;
        }
    }
    return a;
}

static long walk_alt(re_walk *w)
{
    long size = 0;
    while (w->p < w->end) {
        char c = *w->p;
        if (c == ')' && w->depth > 0)
            break;
        if (c == '|') {
            w->p++;
            size = cap(size + 1);
            continue;
        }
        long a = walk_piece(w);
        if (a < 0)
            return -1;
        size = cap(size + a);
    }
    return size;
}

td_status td_regex_compile(regex_t *re, const char *pattern, const char *what,
                           td_err_t *err)
{
    size_t len = strlen(pattern);
    if (len > TD_REGEX_MAX_LEN)
        return td_err_set(err, TD_EUSAGE, "%s pattern: %zu bytes, more than "
                          "the %d allowed", what, len, TD_REGEX_MAX_LEN);
    re_walk w = {pattern, pattern + len, 0, ""};
    long size = walk_alt(&w);
    if (size < 0)
        return td_err_set(err, TD_EUSAGE, "%s pattern '%s': %s (patterns "
                          "are bounded to keep compiling them cheap)", what,
                          pattern, w.why);
    if (size > TD_REGEX_MAX_EXPANDED)
        return td_err_set(err, TD_EUSAGE, "%s pattern '%s': its repetitions "
                          "expand to more than %d atoms (patterns are bounded "
                          "to keep compiling them cheap)", what, pattern,
                          TD_REGEX_MAX_EXPANDED);
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        char msg[256];
        regerror(rc, re, msg, sizeof msg);
        return td_err_set(err, TD_EUSAGE, "%s pattern '%s': %s", what, pattern,
                          msg);
    }
    return TD_OK;
}
