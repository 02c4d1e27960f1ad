/* Measured sensitivity by probes; see td_calib_sens.h. */
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib/td_calib_sens_int.h"
#include "passes/td_reuse.h"
#include "util/td_buf.h"
#include "util/td_clock.h"

void td_sens_free(td_sens *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->names && i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    free(s->w);
    free(s->cache);
    free(s);
}

/* A normalised weight as the allocation uses it. The floor is not kept
 * in w, so that weights read back from a cache normalise to the same. */
static double in_use(double w)
{
    return fmax(w, TD_SENS_FLOOR);
}

double td_sens_weight(void *ctx, const char *layer)
{
    const td_sens *s = ctx;
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], layer))
            return in_use(s->w[i]);
    return 1;
}

const td_sens_info *td_sens_info_of(const td_sens *s)
{
    return &s->info;
}

/* The probe's state: the options of its compressions, the factors they
 * share, the inputs, the layers and their errors. */
typedef struct probe {
    td_calib *c;
    td_model *m;
    td_compress_opts po;
    unsigned char *use;
    size_t n_layers;
    char **names;
    double *err2;
    size_t runs;
    const char *const *outputs;  /* those measured; NULL: every one */
    size_t n_outputs;
    size_t groups;   /* at most, >= 1 */
} probe;

/* A fork of the model with the probe's chains (of the layers `include`
 * accepts, NULL: all), measured; the report when wanted (rep != NULL). */
static td_status probe_fork(probe *p, const regex_t *include, double *dev,
                            td_compress_report *rep, td_err_t *err)
{
    td_compress_opts so = p->po;
    so.include = include;
    td_arena *a = td_arena_new();
    td_graph *g = a ? td_model_fork_graph(p->m, a) : NULL;
    td_compress_report r = {0};
    td_measured ms = {0};
    size_t runs0 = td_calib_model_runs(p->c);
    td_status s = g ? td_pass_compress(g, &so, &r, err)
                    : td_err_set(err, TD_ENOMEM, "out of memory");
    if (!s)
        s = td_calib_measure_on(p->c, p->m, g, p->use, 0, &ms, err);
    if (!s)
        *dev = td_measured_max_rel_l2(&ms, p->outputs, p->n_outputs);
    p->runs += td_calib_model_runs(p->c) - runs0;
    td_measured_free(&ms);
    if (rep)
        *rep = r;
    else
        td_compress_report_free(&r);
    td_graph_free(g);
    td_arena_free(a);
    return s;
}

/* The layers the probe factored, with their errors, from its report. */
static td_status take_layers(probe *p, const td_compress_report *r,
                             td_err_t *err)
{
    p->names = calloc(r->n_layers ? r->n_layers : 1, sizeof *p->names);
    p->err2 = calloc(r->n_layers ? r->n_layers : 1, sizeof *p->err2);
    if (!p->names || !p->err2)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n_layers; i++) {
        const td_layer_report *l = &r->layers[i];
        if (l->method == TD_KEEP || !(l->rel_error > 0))
            continue;
        if (!(p->names[p->n_layers] = strdup(l->node)))
            return td_err_set(err, TD_ENOMEM, "out of memory");
        p->err2[p->n_layers++] = l->rel_error * l->rel_error;
    }
    return TD_OK;
}

/* "^(a|b|c)$" with the names' ERE metacharacters escaped. */
static td_status group_regex(const probe *p, size_t lo, size_t hi,
                             regex_t *re, td_err_t *err)
{
    td_buf b = {0};
    td_buf_printf(&b, "^(");
    for (size_t i = lo; i < hi; i++) {
        if (i > lo)
            td_buf_printf(&b, "|");
        for (const char *q = p->names[i]; *q; q++)
            td_buf_printf(&b, strchr(".[]{}()\\*+?^$|", *q) ? "\\%c" : "%c",
                          *q);
    }
    td_buf_printf(&b, ")$");
    char *pat = td_buf_take(&b);
    if (!pat)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    int rc = regcomp(re, pat, REG_EXTENDED | REG_NOSUB);
    free(pat);
    if (rc)
        return td_err_set(err, TD_ENOMEM, "out of memory (a pattern of %zu "
                          "layer names)", hi - lo);
    return TD_OK;
}

/* Group [lo, hi): its deviation over its error, squared, into w. */
static td_status probe_group(probe *p, size_t lo, size_t hi, double *w,
                             td_err_t *err)
{
    regex_t re;
    td_status s = group_regex(p, lo, hi, &re, err);
    if (s)
        return s;
    double dev = 0, e2 = 0;
    s = probe_fork(p, &re, &dev, NULL, err);
    regfree(&re);
    if (s)
        return s;
    for (size_t i = lo; i < hi; i++)
        e2 += p->err2[i];
    /* s_g, not s_g^2: see TD_SENS_POWER */
    double price = e2 > 0 ? pow(dev * dev / e2, TD_SENS_POWER) : 0;
    for (size_t i = lo; i < hi; i++)
        w[i] = price;
    return TD_OK;
}

/* Weights to a mean of 1 (all 1 when nothing moved the outputs). */
static void normalise(td_sens *s)
{
    double sum = 0;
    for (size_t i = 0; i < s->n; i++)
        sum += s->w[i];
    double mean = s->n ? sum / (double)s->n : 0;
    s->info.w_min = s->info.w_max = 1;
    for (size_t i = 0; i < s->n; i++) {
        s->w[i] = mean > 0 && isfinite(mean) ? s->w[i] / mean : 1;
        if (!isfinite(s->w[i]))
            s->w[i] = 1e6;  /* a probe broke the outputs: price it dear */
        double u = in_use(s->w[i]);   /* what the report says is used */
        s->info.w_min = i ? fmin(s->info.w_min, u) : u;
        s->info.w_max = i ? fmax(s->info.w_max, u) : u;
    }
}

static td_status measure(probe *p, td_sens **out, td_err_t *err)
{
    td_compress_report r = {0};
    double dev_all = 0;
    td_status s = probe_fork(p, NULL, &dev_all, &r, err);
    if (!s)
        s = take_layers(p, &r, err);
    td_compress_report_free(&r);
    if (s)
        return s;
    td_sens *sn = td_sens_alloc(p->n_layers);
    if (!sn)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    size_t groups = p->n_layers < p->groups ? p->n_layers : p->groups;
    for (size_t g = 0; g < groups && !s; g++)
        s = probe_group(p, g * p->n_layers / groups,
                        (g + 1) * p->n_layers / groups, sn->w, err);
    for (size_t i = 0; i < p->n_layers; i++) {
        sn->names[i] = p->names[i];
        p->names[i] = NULL;
    }
    sn->info.layers = p->n_layers;
    sn->info.groups = groups;
    sn->info.dev_all = dev_all;
    if (s) {
        td_sens_free(sn);
        return s;
    }
    normalise(sn);
    *out = sn;
    return TD_OK;
}

/* The probe inputs: the first TD_SENS_INPUTS calibration inputs. */
static td_status pick_inputs(probe *p, size_t *k, td_err_t *err)
{
    size_t n;
    const unsigned char *cal = td_calib_calibration_set(p->c, &n);
    if (!(p->use = calloc(n ? n : 1, 1)))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    *k = 0;
    for (size_t i = 0; i < n && *k < TD_SENS_INPUTS; i++)
        if (cal[i]) {
            p->use[i] = 1;
            (*k)++;
        }
    return TD_OK;
}

td_status td_calib_sens(td_calib *c, td_model *m, const td_compress_opts *o,
                        const char *const *outputs, size_t n_outputs,
                        const char *cache, size_t groups, td_sens **out,
                        td_err_t *err)
{
    double t0 = td_now();
    probe p = {.c = c, .m = m, .po = *o, .outputs = outputs,
               .n_outputs = n_outputs, .groups = groups ? groups : 1};
    p.po.global = TD_GLOBAL_NONE;
    p.po.target = 0;
    p.po.also_flops = 0;
    p.po.vbmf = 0;
    p.po.budget.kind = TD_BUDGET_RATIO;
    p.po.budget.ratio = TD_SENS_PROBE_RATIO;
    p.po.progress = NULL;
    p.po.progress_work = NULL;
    p.po.layer_weight = NULL;
    p.po.protect = 0;
    p.po.reuse = td_reuse_new();
    uint64_t key = 0;
    size_t k = 0;
    td_sens *sn = NULL;
    td_status s = p.po.reuse ? pick_inputs(&p, &k, err)
                             : td_err_set(err, TD_ENOMEM, "out of memory");
    if (!s && cache && !(s = td_sens_key(c, m, o, outputs, n_outputs, p.use,
                                           p.groups, &key, err)))
        s = td_sens_load(cache, key, &sn, err);
    if (!s && sn) {
        sn->info.from_cache = 1;
        sn->info.dev_all = -1;
        normalise(sn);
    } else if (!s && !(s = measure(&p, &sn, err))) {
        sn->info.inputs = k;
        sn->info.model_runs = p.runs;
        if (cache)
            s = td_sens_save(cache, key, sn, err);
    }
    if (!s && cache && !(sn->cache = strdup(cache)))
        s = td_err_set(err, TD_ENOMEM, "out of memory");
    if (!s) {
        sn->info.cache = sn->cache;
        sn->info.seconds = td_now() - t0;
        *out = sn;
        sn = NULL;
    }
    td_sens_free(sn);
    for (size_t i = 0; p.names && i < p.n_layers; i++)
        free(p.names[i]);
    free(p.names);
    free(p.err2);
    free(p.use);
    td_reuse_free(p.po.reuse);
    return s;
}
