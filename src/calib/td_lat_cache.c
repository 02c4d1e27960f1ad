/* The latency cache: key -> (layer ms, chain ms, lower quartile, median
 * and upper quartile of chain/layer per round), and its text form, one
 * entry a line:
 *
 *   # onnxtd latency cache 2
 *   KEY<TAB>LAYER_MS<TAB>CHAIN_MS<TAB>RATIO_Q1<TAB>RATIO_MEDIAN<TAB>RATIO_Q3
 *
 * KEY is printable ASCII without tabs (td_lat.c writes it). A line of the
 * first format, without the ratios, is read with the ratio of the two
 * medians for them. Lines starting with '#' and empty lines are skipped; a later
 * line for the same key wins. */
#include "calib/td_lat.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/td_buf.h"

#define CACHE_HEADER "# onnxtd latency cache 2: key, layer ms, chain ms, " \
                     "chain/layer per round: lower quartile, median, " \
                     "upper quartile\n"
/* Keys are short (a few hundred bytes); a longer line is not one. */
#define MAX_LINE 4096

typedef struct entry {
    char *key;
    td_lat_result r;
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

int td_lat_cache_get(const td_lat_cache *c, const char *key,
                     td_lat_result *res)
{
    const entry *e = find(c, key);
    if (!e)
        return 0;
    res->layer_ms = e->r.layer_ms;
    res->chain_ms = e->r.chain_ms;
    res->ratio_q1 = e->r.ratio_q1;
    res->ratio_median = e->r.ratio_median;
    res->ratio_q3 = e->r.ratio_q3;
    return 1;
}

td_status td_lat_cache_put(td_lat_cache *c, const char *key,
                           const td_lat_result *res, td_err_t *err)
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
    e->r = *res;
    e->r.cached = 0;
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

/* One line (NUL-terminated, no newline) into c: the key and two or five
 * positive numbers (the ratios in order). */
static int parse_line(td_lat_cache *c, char *line, td_err_t *err,
                      td_status *st)
{
    char *f[6] = {line};
    size_t n = 1;
    for (char *t = strchr(line, '\t'); t; t = strchr(t + 1, '\t')) {
        if (n == 6)
            return 0;
        *t = 0;
        f[n++] = t + 1;
    }
    if ((n != 3 && n != 6) || !*line)
        return 0;
    for (const char *k = line; *k; k++)
        if ((unsigned char)*k < 0x20 || (unsigned char)*k > 0x7e)
            return 0;
    td_lat_result r = {0};
    if (!parse_ms(f[1], &r.layer_ms) || !parse_ms(f[2], &r.chain_ms) ||
        (n == 6 && (!parse_ms(f[3], &r.ratio_q1) ||
                    !parse_ms(f[4], &r.ratio_median) ||
                    !parse_ms(f[5], &r.ratio_q3) ||
                    r.ratio_q1 > r.ratio_median ||
                    r.ratio_median > r.ratio_q3)))
        return 0;
    *st = td_lat_cache_put(c, line, &r, err);
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
                              "chain's positive milliseconds, optionally the "
                              "lower quartile, median and upper quartile of "
                              "chain/layer per round, separated by tabs)",
                              path, no);
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
    for (size_t i = 0; i < c->n; i++) {
        const td_lat_result *r = &c->e[i].r;
        if (r->ratio_q1 > 0 && r->ratio_median > 0 && r->ratio_q3 > 0)
            td_buf_printf(&b, "%s\t%.6g\t%.6g\t%.6g\t%.6g\t%.6g\n",
                          c->e[i].key, r->layer_ms, r->chain_ms, r->ratio_q1,
                          r->ratio_median, r->ratio_q3);
        else
            td_buf_printf(&b, "%s\t%.6g\t%.6g\n", c->e[i].key, r->layer_ms,
                          r->chain_ms);
    }
    *len = b.len;
    if (!(*out = td_buf_take(&b)))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    return TD_OK;
}
