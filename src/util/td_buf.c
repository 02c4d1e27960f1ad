#include "td_buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(td_buf *b, size_t n)
{
    if (b->oom)
        return -1;
    if (b->cap - b->len > n)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len <= n) {
        if (cap > SIZE_MAX / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void td_buf_put(td_buf *b, const char *s, size_t n)
{
    if (reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void td_buf_printf(td_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n + 1))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *td_buf_take(td_buf *b)
{
    if (b->oom || reserve(b, 1)) {
        td_buf_free(b);
        return NULL;
    }
    b->p[b->len] = '\0';
    char *p = b->p;
    memset(b, 0, sizeof *b);
    return p;
}

void td_buf_free(td_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void sep(td_buf *b)
{
    if (b->need_comma)
        td_buf_put(b, ",", 1);
    b->need_comma = 1;
}

void td_json_open(td_buf *b, char c)
{
    sep(b);
    td_buf_put(b, &c, 1);
    b->need_comma = 0;
}

void td_json_close(td_buf *b, char c)
{
    td_buf_put(b, &c, 1);
    b->need_comma = 1;
}

void td_json_key(td_buf *b, const char *key)
{
    td_json_str(b, key);
    td_buf_put(b, ":", 1);
    b->need_comma = 0;
}

size_t td_utf8_next(const char *str, size_t n, int *ok)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char lead = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    *ok = 0;
    if (lead < 0x80) {
        *ok = 1;
        return 1;
    }
    /* Unicode 15, Table 3-7: the second byte's range excludes overlong
     * forms (E0, F0), surrogates (ED) and code points past U+10FFFF (F4) */
    if (lead >= 0xC2 && lead <= 0xDF) {
        need = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        need = 2;
        if (lead == 0xE0)
            lo = 0xA0;
        if (lead == 0xED)
            hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        need = 3;
        if (lead == 0xF0)
            lo = 0x90;
        if (lead == 0xF4)
            hi = 0x8F;
    } else {
        return 1;  /* 80..C1, F5..FF never start a sequence */
    }
    /* An ill-formed sequence is replaced by one U+FFFD per maximal
     * subpart (Unicode 15, 3.9 "U+FFFD Substitution of Maximal Subparts"):
     * the lead and the continuation bytes that were still acceptable. */
    for (size_t i = 1; i <= need; i++) {
        unsigned char c = i < n ? s[i] : 0;
        if (i >= n || c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xBF))
            return i;
    }
    *ok = 1;
    return need + 1;
}

void td_json_strn(td_buf *b, const char *s, size_t n)
{
    sep(b);
    td_buf_put(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        int ok;
        size_t len = td_utf8_next(s + i, n - i, &ok);
        if (!ok) {
            td_buf_put(b, "\\ufffd", 6);
        } else if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            td_buf_put(b, e, 2);
        } else if (c < 0x20) {
            td_buf_printf(b, "\\u%04x", c);
        } else {
            td_buf_put(b, s + i, len);
        }
        i += len;
    }
    td_buf_put(b, "\"", 1);
}

void td_json_str(td_buf *b, const char *s)
{
    if (!s)
        s = "";
    td_json_strn(b, s, strlen(s));
}

void td_json_int(td_buf *b, int64_t v)
{
    sep(b);
    td_buf_printf(b, "%lld", (long long)v);
}

void td_json_num(td_buf *b, double v)
{
    sep(b);
    if (!isfinite(v))
        td_buf_put(b, "null", 4);
    else
        td_buf_printf(b, "%.9g", v);
}

void td_json_bool(td_buf *b, int v)
{
    sep(b);
    td_buf_put(b, v ? "true" : "false", v ? 4 : 5);
}

void td_json_null(td_buf *b)
{
    sep(b);
    td_buf_put(b, "null", 4);
}
