/* onnxtd_report: accessors over a copy of the pass's report, and the
 * renderers of src/passes/td_report*.c called on it. */
#include <stdlib.h>
#include <string.h>

#include "api_args.h"
#include "api_report.h"
#include "passes/td_latency.h"
#include "util/td_arena.h"

struct onnxtd_report {
    td_compress_report r;  /* layers and skipped malloc'd, text in arena */
    td_arena *arena;
    td_measured measured;  /* r.measured points here when measured */
    td_speed speed;        /* r.speed points here when timed */
    td_bound_report bound; /* measured.bound points here when kept */
    td_sens_info sens;     /* measured.sens points here when used */
    td_lambda_choice lambda_auto;  /* measured.lambda_auto points here */
    td_judge judge;        /* bound.judge points here (its name copied;
                              never called from here) */
    td_stats *stats;       /* NULL without calibration inputs */
    uint8_t *stats_bytes;  /* packed on first request */
    size_t stats_len;
    char *lat_cache;       /* with options.latency_cache: its new text */
    size_t lat_cache_len;
    size_t replaced;
    int64_t macs_before, macs_after;  /* -1: unknown */
};

/* The string s in a's copy ("" stays ""); NULL stays NULL. 0 when out of
 * memory. */
static int copy_str(td_arena *a, const char **s)
{
    if (!*s)
        return 1;
    return (*s = td_arena_strdup(a, *s)) != NULL;
}

static int copy_strings(onnxtd_report *rep)
{
    td_compress_report *r = &rep->r;
    for (size_t i = 0; i < r->n_layers; i++) {
        td_layer_report *l = &r->layers[i];
        if (!copy_str(rep->arena, &l->node) || !copy_str(rep->arena, &l->op) ||
            !copy_str(rep->arena, &l->note))
            return 0;
    }
    for (size_t i = 0; i < r->n_skipped; i++) {
        td_skip_report *k = &r->skipped[i];
        if (!copy_str(rep->arena, &k->node) || !copy_str(rep->arena, &k->op) ||
            !copy_str(rep->arena, &k->reason))
            return 0;
    }
    return copy_str(rep->arena, &r->budget_note) &&
           copy_str(rep->arena, &r->model_name) &&
           copy_str(rep->arena, &r->command) &&
           copy_str(rep->arena, &r->options) &&
           copy_str(rep->arena, &r->version);
}

/* The totals the accessors answer, summed as the JSON report sums them:
 * an unknown layer, or a sum past int64, makes the MACs unknown. */
static void count(onnxtd_report *rep)
{
    int64_t fb = 0, fa = 0;
    int known = 1;
    for (size_t i = 0; i < rep->r.n_layers; i++) {
        const td_layer_report *l = &rep->r.layers[i];
        rep->replaced += l->method != TD_KEEP;
        if (l->macs_before < 0 || l->macs_after < 0 ||
            td_add_i64(fb, l->macs_before, &fb) ||
            td_add_i64(fa, l->macs_after, &fa))
            known = 0;
    }
    rep->macs_before = known ? fb : -1;
    rep->macs_after = known ? fa : -1;
}

static void *dup_array(const void *p, size_t n, size_t size)
{
    if (!n)
        return NULL;
    void *q = calloc(n, size);
    if (q)
        memcpy(q, p, n * size);
    return q;
}

td_status api_report_new(const td_compress_report *r, td_measured *measured,
                         td_stats *stats, onnxtd_report **out, td_err_t *err)
{
    *out = NULL;
    onnxtd_report *rep = calloc(1, sizeof *rep);
    if (!rep) {
        td_stats_free(stats);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    rep->stats = stats;
    rep->r = *r;
    rep->r.layers = dup_array(r->layers, r->n_layers, sizeof *r->layers);
    rep->r.skipped = dup_array(r->skipped, r->n_skipped, sizeof *r->skipped);
    rep->r.measured = NULL;
    if (r->speed) {
        rep->speed = *r->speed;
        rep->r.speed = &rep->speed;
    }
    rep->arena = td_arena_new();
    if (!rep->arena || (r->n_layers && !rep->r.layers) ||
        (r->n_skipped && !rep->r.skipped) || !copy_strings(rep)) {
        onnxtd_report_free(rep);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    if (measured) {
        rep->measured = *measured;
        memset(measured, 0, sizeof *measured);
        rep->r.measured = &rep->measured;
        if (rep->measured.bound) {
            rep->bound = *rep->measured.bound;
            rep->measured.bound = &rep->bound;
            if (rep->bound.judge) {
                rep->judge = *rep->bound.judge;
                rep->bound.judge = &rep->judge;
            }
        }
        /* the judge's name is the caller's (a command line): ours now */
        if (!copy_str(rep->arena, &rep->judge.name) ||
            !copy_str(rep->arena, &rep->measured.judge)) {
            onnxtd_report_free(rep);
            return td_err_set(err, TD_ENOMEM, "out of memory");
        }
        if (rep->measured.lambda_auto) {
            rep->lambda_auto = *rep->measured.lambda_auto;
            rep->measured.lambda_auto = &rep->lambda_auto;
        }
        if (rep->measured.sens) {
            rep->sens = *rep->measured.sens;
            rep->measured.sens = &rep->sens;
            if (!copy_str(rep->arena, &rep->sens.cache)) {
                onnxtd_report_free(rep);
                return td_err_set(err, TD_ENOMEM, "out of memory");
            }
        }
    }
    count(rep);
    *out = rep;
    return TD_OK;
}

void onnxtd_report_free(onnxtd_report *r)
{
    if (!r)
        return;
    td_compress_report_free(&r->r);
    td_measured_free(&r->measured);
    td_stats_free(r->stats);
    free(r->stats_bytes);
    free(r->lat_cache);
    td_arena_free(r->arena);
    free(r);
}

size_t onnxtd_report_layers(const onnxtd_report *r)
{
    return r ? r->r.n_layers : 0;
}

size_t onnxtd_report_replaced(const onnxtd_report *r)
{
    return r ? r->replaced : 0;
}

int64_t onnxtd_report_params_before(const onnxtd_report *r)
{
    return r ? r->r.model_params_before : -1;
}

int64_t onnxtd_report_params_after(const onnxtd_report *r)
{
    return r ? r->r.model_params_after : -1;
}

int64_t onnxtd_report_macs_before(const onnxtd_report *r)
{
    return r ? r->macs_before : -1;
}

int64_t onnxtd_report_macs_after(const onnxtd_report *r)
{
    return r ? r->macs_after : -1;
}

static const td_layer_report *layer(const onnxtd_report *r, size_t i)
{
    return r && i < r->r.n_layers ? &r->r.layers[i] : NULL;
}

const char *onnxtd_report_layer_name(const onnxtd_report *r, size_t i)
{
    const td_layer_report *l = layer(r, i);
    return l ? l->node : NULL;
}

const char *onnxtd_report_layer_method(const onnxtd_report *r, size_t i)
{
    const td_layer_report *l = layer(r, i);
    return l ? td_method_name(l->method) : NULL;
}

const char *onnxtd_report_layer_reason(const onnxtd_report *r, size_t i)
{
    const td_layer_report *l = layer(r, i);
    return l && l->method == TD_KEEP ? l->note : NULL;
}

double onnxtd_report_layer_error(const onnxtd_report *r, size_t i)
{
    const td_layer_report *l = layer(r, i);
    return l ? l->rel_error : -1;
}

size_t onnxtd_report_measured_outputs(const onnxtd_report *r)
{
    return r && r->r.measured ? r->measured.n_out : 0;
}

const char *onnxtd_report_measured_name(const onnxtd_report *r, size_t i)
{
    return i < onnxtd_report_measured_outputs(r) ? r->measured.out[i].name
                                                 : NULL;
}

double onnxtd_report_measured_rel_l2(const onnxtd_report *r, size_t i)
{
    return i < onnxtd_report_measured_outputs(r) ? r->measured.out[i].rel_l2
                                                 : -1;
}

double onnxtd_report_latency_ratio(const onnxtd_report *r)
{
    if (!r)
        return -1;
    /* on the calibration inputs, else the end-of-compress timing */
    if (r->r.measured && r->measured.runs && r->measured.ms_before > 0)
        return r->measured.ms_after / r->measured.ms_before;
    if (r->r.speed && r->speed.timed && r->speed.speedup > 0)
        return 1 / r->speed.speedup;
    return -1;
}

/* One renderer's call: the arguments checked, its text or ENOMEM. */
static onnxtd_status render(const onnxtd_report *r, char **out,
                            char *(*fn)(const td_compress_report *),
                            const char *name, onnxtd_error *oerr)
{
    td_err_t *err = (td_err_t *)oerr;
    td_status s;
    if ((s = api_need(out, name, "out", err)))
        return (onnxtd_status)s;
    *out = NULL;
    if ((s = api_need(r, name, "r", err)))
        return (onnxtd_status)s;
    if (!(*out = fn(&r->r)))
        return (onnxtd_status)td_err_set(err, TD_ENOMEM,
                                         "%s: out of memory", name);
    return ONNXTD_OK;
}

onnxtd_status onnxtd_report_json(const onnxtd_report *r, char **out,
                                 onnxtd_error *err)
{
    return render(r, out, td_compress_report_json, "onnxtd_report_json", err);
}

onnxtd_status onnxtd_report_text(const onnxtd_report *r, char **out,
                                 onnxtd_error *err)
{
    return render(r, out, td_compress_report_table, "onnxtd_report_text", err);
}

onnxtd_status onnxtd_report_html(const onnxtd_report *r, char **out,
                                 onnxtd_error *err)
{
    return render(r, out, td_compress_report_html, "onnxtd_report_html", err);
}

onnxtd_status onnxtd_report_stats(onnxtd_report *r, const unsigned char **data,
                                  size_t *len, onnxtd_error *oerr)
{
    static const char fn[] = "onnxtd_report_stats";
    td_err_t *err = (td_err_t *)oerr;
    td_status s;
    if ((s = api_need(data, fn, "data", err)) ||
        (s = api_need(len, fn, "len", err)))
        return (onnxtd_status)s;
    *data = NULL;
    *len = 0;
    if ((s = api_need(r, fn, "r", err)))
        return (onnxtd_status)s;
    if (r->stats && !r->stats_bytes &&
        (s = td_stats_pack(r->stats, &r->stats_bytes, &r->stats_len, err)))
        return (onnxtd_status)s;
    *data = r->stats_bytes;
    *len = r->stats_len;
    return ONNXTD_OK;
}

void api_report_set_latency_cache(onnxtd_report *r, char *text, size_t len)
{
    free(r->lat_cache);
    r->lat_cache = text;
    r->lat_cache_len = len;
}

onnxtd_status onnxtd_report_latency_cache(const onnxtd_report *r,
                                          const char **data, size_t *len,
                                          onnxtd_error *oerr)
{
    static const char fn[] = "onnxtd_report_latency_cache";
    td_err_t *err = (td_err_t *)oerr;
    td_status s;
    if ((s = api_need(data, fn, "data", err)) ||
        (s = api_need(len, fn, "len", err)))
        return (onnxtd_status)s;
    *data = NULL;
    *len = 0;
    if ((s = api_need(r, fn, "r", err)))
        return (onnxtd_status)s;
    *data = r->lat_cache;
    *len = r->lat_cache_len;
    return ONNXTD_OK;
}
