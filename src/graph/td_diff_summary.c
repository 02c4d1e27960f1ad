/* The end of a td_diff report: text lines sorted (section, then name with
 * numbers by value, so two runs on the same pair read alike and a removal
 * sits beside the addition that replaced it), and the one-line summary
 * for logs. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "td_diff_internal.h"

void diff_note_tensor(dctx *c, const tensor_cmp *r)
{
    c->sum.tensors_differ++;
    if (!r->numeric)
        return;
    if (!c->sum.has_max || !(r->max_abs_diff <= c->sum.max_abs))
        c->sum.max_abs = r->max_abs_diff;
    if (!c->sum.has_max || !(r->max_rel_diff <= c->sum.max_rel))
        c->sum.max_rel = r->max_rel_diff;
    c->sum.has_max = 1;
}

const char *diff_tx(dctx *c, const char *s)
{
    if (!s)
        return "";
    size_t n = 0, extra = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f)
            extra += 3;  /* at most "\xHH" for one byte */
    if (!extra)
        return s;
    char *r = td_arena_alloc(c->ar, n + extra + 1), *o = r;
    if (!r)
        return "?";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p != 0x7f) {
            *o++ = (char)*p;
            continue;
        }
        *o++ = '\\';
        if (*p == '\n' || *p == '\t' || *p == '\r') {
            *o++ = *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r';
            continue;
        }
        static const char hex[] = "0123456789abcdef";
        *o++ = 'x';
        *o++ = hex[*p >> 4];
        *o++ = hex[*p & 15];
    }
    *o = '\0';
    return r;
}

/* Sections in report order; a line's section is the word after its mark. */
static int section_rank(const char *line)
{
    static const char *const order[] = {
        "model ", "opset ", "metadata ", "input",
        "output", "initializer ", "node ", "function "};
    const char *w = strlen(line) > 2 ? line + 2 : line;
    for (size_t k = 0; k < sizeof order / sizeof *order; k++)
        if (!strncmp(w, order[k], strlen(order[k])))
            return (int)k;
    return (int)(sizeof order / sizeof *order);
}

static int mark_rank(char m) { return m == '-' ? 0 : m == '+' ? 1 : 2; }

/* strcmp, except that runs of digits compare by value: node #9 comes
 * before node #10. */
static int natural_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            size_t na = 0, nb = 0;
            while (isdigit((unsigned char)a[na]))
                na++;
            while (isdigit((unsigned char)b[nb]))
                nb++;
            if (na != nb)
                return na < nb ? -1 : 1;
            int r = strncmp(a, b, na);
            if (r)
                return r;
            a += na;
            b += nb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

static int line_cmp(const void *pa, const void *pb)
{
    const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
    int ra = section_rank(a), rb = section_rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    int r = natural_cmp(strlen(a) > 2 ? a + 2 : a, strlen(b) > 2 ? b + 2 : b);
    if (r)
        return r;
    return mark_rank(a[0]) - mark_rank(b[0]);
}

td_status diff_sort_lines(td_buf *body, td_buf *out, td_err_t *err)
{
    if (!body->len)
        return TD_OK;
    char *text = malloc(body->len + 1);
    size_t n = 0;
    for (size_t k = 0; k < body->len; k++)
        n += body->p[k] == '\n';
    char **line = malloc((n + 1) * sizeof *line);
    td_status s = TD_OK;
    if (!text || !line) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    memcpy(text, body->p, body->len);
    text[body->len] = '\0';
    n = 0;
    for (char *p = text; *p;) {
        char *e = strchr(p, '\n');
        line[n++] = p;
        if (!e)
            break;
        *e = '\0';
        p = e + 1;
    }
    qsort(line, n, sizeof *line, line_cmp);
    for (size_t k = 0; k < n; k++)
        td_buf_printf(out, "%s\n", line[k]);
cleanup:
    free(text);
    free(line);
    return s;
}

/* "2 nodes changed" */
static void part(td_buf *b, int *first, size_t n, const char *one,
                 const char *many, const char *what)
{
    if (!n)
        return;
    td_buf_printf(b, "%s%zu %s%s%s", *first ? "" : ", ", n,
                  n == 1 ? one : many, what[0] ? " " : "", what);
    *first = 0;
}

void diff_summary_text(td_buf *b, const dctx *c)
{
    const diff_summary *m = &c->sum;
    if (!c->count) {
        td_buf_printf(b, "diff: same\n");
        return;
    }
    int first = 1;
    td_buf_printf(b, "diff: ");
    part(b, &first, m->nodes_added, "node", "nodes", "added");
    part(b, &first, m->nodes_removed, "node", "nodes", "removed");
    part(b, &first, m->nodes_changed, "node", "nodes", "changed");
    part(b, &first, m->nodes_renamed, "node", "nodes", "renamed");
    part(b, &first, m->tensors_added, "tensor", "tensors", "added");
    part(b, &first, m->tensors_removed, "tensor", "tensors", "removed");
    part(b, &first, m->tensors_differ, "tensor differs", "tensors differ", "");
    if (m->tensors_differ && m->has_max)
        td_buf_printf(b, " (max abs %.3g, max rel %.3g)", m->max_abs,
                      m->max_rel);
    part(b, &first, c->count - m->counted, "other difference",
         "other differences", "");
    td_buf_printf(b, "\n");
}

static void key_count(td_buf *b, const char *key, size_t n)
{
    td_json_key(b, key);
    td_json_int(b, (int64_t)n);
}

void diff_summary_json(td_buf *b, const dctx *c)
{
    const diff_summary *m = &c->sum;
    td_json_key(b, "summary");
    td_json_open(b, '{');
    key_count(b, "nodes_added", m->nodes_added);
    key_count(b, "nodes_removed", m->nodes_removed);
    key_count(b, "nodes_changed", m->nodes_changed);
    key_count(b, "nodes_renamed", m->nodes_renamed);
    key_count(b, "tensors_added", m->tensors_added);
    key_count(b, "tensors_removed", m->tensors_removed);
    key_count(b, "tensors_differ", m->tensors_differ);
    key_count(b, "other", c->count - m->counted);
    td_json_key(b, "max_abs_diff");  /* null: none, or infinite */
    m->has_max ? td_json_num(b, m->max_abs) : td_json_null(b);
    td_json_key(b, "max_rel_diff");
    m->has_max ? td_json_num(b, m->max_rel) : td_json_null(b);
    td_json_close(b, '}');
    static const char *const names[] = {"names", "metadata", "doc_strings"};
    unsigned ig = c->o ? c->o->ignore : 0;
    td_json_key(b, "options");
    td_json_open(b, '{');
    td_json_key(b, "atol");
    td_json_num(b, c->o ? c->o->atol : 0);
    td_json_key(b, "rtol");
    td_json_num(b, c->o ? c->o->rtol : 0);
    td_json_key(b, "ignore");
    td_json_open(b, '[');
    for (unsigned k = 0; k < 3; k++)
        if (ig & (1u << k))
            td_json_str(b, names[k]);
    td_json_close(b, ']');
    td_json_close(b, '}');
}
