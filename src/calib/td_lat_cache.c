/* The latency cache: key -> (layer ms, chain ms), and its text form, one
 * entry a line:
 *
 *   # onnxtd latency cache 1
 *   KEY<TAB>LAYER_MS<TAB>CHAIN_MS
 *
 * KEY is printable ASCII without tabs (td_lat.c writes it). Lines starting
 * with '#' and empty lines are skipped; a later line for the same key
 * wins. */
#include "calib/td_lat.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/td_buf.h"

#define CACHE_HEADER "# onnxtd latency cache 1: key, layer ms, chain ms\n"
/* Keys are short (a few hundred bytes); a longer line is not one. */
#define MAX_LINE 4096

typedef struct entry {
    char *key;
    double layer_ms, chain_ms;
} entry;

struct td_lat_cache {
    entry *e;
    size_t n, cap;
};

td_lat_cache *td_lat_cache_new(void)
{
    return calloc(1, sizeof(td_lat_cache));
}

void td_lat_cache_free(td_lat_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->e[i].key);
    free(c->e);
    free(c);
}

static entry *find(const td_lat_cache *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->e[i].key, key))
            return &c->e[i];
    return NULL;
}

int td_lat_cache_get(const td_lat_cache *c, const char *key, double *layer_ms,
                     double *chain_ms)
{
    const entry *e = find(c, key);
    if (!e)
        return 0;
    *layer_ms = e->layer_ms;
    *chain_ms = e->chain_ms;
    return 1;
}

td_status td_lat_cache_put(td_lat_cache *c, const char *key, double layer_ms,
                           double chain_ms, td_err_t *err)
{
    entry *e = find(c, key);
    if (!e) {
        if (c->n == c->cap) {
            size_t cap = c->cap ? 2 * c->cap : 32;
            entry *ne = realloc(c->e, cap * sizeof *ne);
            if (!ne)
                return td_err_set(err, TD_ENOMEM, "out of memory");
            c->e = ne;
            c->cap = cap;
        }
        char *k = strdup(key);
        if (!k)
            return td_err_set(err, TD_ENOMEM, "out of memory");
        e = &c->e[c->n++];
        e->key = k;
    }
    e->layer_ms = layer_ms;
    e->chain_ms = chain_ms;
    return TD_OK;
}

/* A median in ms: finite and positive. */
static int parse_ms(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return end != s && !*end && !errno && isfinite(*v) && *v > 0;
}

/* One line (NUL-terminated, no newline) into c. */
static int parse_line(td_lat_cache *c, char *line, td_err_t *err,
                      td_status *st)
{
    char *t1 = strchr(line, '\t');
    char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    double a, b;
    if (!t1 || !t2 || t1 == line || strchr(t2 + 1, '\t'))
        return 0;
    *t1 = *t2 = 0;
    for (const char *k = line; *k; k++)
        if ((unsigned char)*k < 0x20 || (unsigned char)*k > 0x7e)
            return 0;
    if (!parse_ms(t1 + 1, &a) || !parse_ms(t2 + 1, &b))
        return 0;
    *st = td_lat_cache_put(c, line, a, b, err);
    return 1;
}

td_status td_lat_cache_parse(td_lat_cache *c, const char *path,
                             const char *text, size_t len, td_err_t *err)
{
    char line[MAX_LINE];
    size_t at = 0, no = 0;
    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        no++;
        if (n >= sizeof line || memchr(text + at, 0, n))
            return td_err_set(err, TD_EINPUT, "%s: line %zu is not a latency "
                              "cache line (too long, or a NUL byte)", path, no);
        memcpy(line, text + at, n);
        line[n] = 0;
        at += n + 1;
        if (!n || line[0] == '#')
            continue;
        td_status st = TD_OK;
        if (!parse_line(c, line, err, &st))
            return td_err_set(err, TD_EINPUT, "%s: line %zu is not a latency "
                              "cache line (KEY, then the layer's and the "
                              "chain's positive milliseconds, separated by "
                              "tabs)", path, no);
        if (st)
            return st;
    }
    return TD_OK;
}

td_status td_lat_cache_format(const td_lat_cache *c, char **out, size_t *len,
                              td_err_t *err)
{
    td_buf b = {0};
    td_buf_printf(&b, "%s", CACHE_HEADER);
    for (size_t i = 0; i < c->n; i++)
        td_buf_printf(&b, "%s\t%.6g\t%.6g\n", c->e[i].key, c->e[i].layer_ms,
                      c->e[i].chain_ms);
    *len = b.len;
    if (!(*out = td_buf_take(&b)))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    return TD_OK;
}
