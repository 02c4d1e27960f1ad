/* One calibrated compression: statistics before the pass, the measured
 * deviation after it; see td_calib.h. */
#include <stdlib.h>
#include <sys/resource.h>

#include "calib/td_calib.h"
#include "util/td_clock.h"

struct td_calib {
    td_calib_opts o;
    td_rt *rt;
    td_samples *smp;
    const char **names;     /* the model's runtime inputs */
    size_t n_in;
    size_t n, k;            /* samples, held out */
    unsigned char *held;
    unsigned char *calib;   /* !held */
    td_stats *stats;
    td_arena *arena;        /* the original's fork */
    td_graph *orig;
    double stats_seconds;
    size_t stats_peak_rss;
    /* the original's outputs on the measured inputs, kept from the first
     * measurement on (one slot per sample); its session is not kept: with
     * the compressed model's, and the pass's memory between them, two
     * ISNet sessions at 1024x1024 held 5 GB */
    td_array **refs;
    size_t n_refs_out;
    size_t model_runs;  /* whole-model runs by measurements so far */
};

/* The process's peak resident set so far (Linux reports KiB); 0 when the
 * system does not say. */
static size_t peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0 || ru.ru_maxrss <= 0)
        return 0;
    return (size_t)ru.ru_maxrss * 1024;
}

void td_calib_free(td_calib *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->refs && i < c->n; i++)
        td_array_free_n(c->refs[i], c->n_refs_out);
    free(c->refs);
    td_graph_free(c->orig);
    td_arena_free(c->arena);
    td_stats_free(c->stats);
    free(c->held);
    free(c->calib);
    td_samples_free(c->smp);
    free(c->names);
    td_rt_close(c->rt);
    free(c);
}

const td_stats *td_calib_statistics(const td_calib *c)
{
    return c->stats;
}

void td_calib_view_of(td_calib *c, td_calib_view *out)
{
    out->rt = c->rt;
    out->smp = c->smp;
    out->n_in = c->n_in;
    out->calib = c->calib;
    out->orig = c->orig;
    out->rt_opts = c->o.rt;
}

td_stats *td_calib_take_statistics(td_calib *c)
{
    td_stats *s = c->stats;
    c->stats = NULL;
    return s;
}

td_status td_calib_begin(td_model *m, const td_calib_opts *o, td_calib **out,
                         td_err_t *err)
{
    *out = NULL;
    td_calib *c = calloc(1, sizeof *c);
    if (!c)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    c->o = *o;
    td_status s;
    /* the runtime first: without it nothing else can be done, and its
     * message says what to install */
    if ((s = td_rt_open(o->ort_lib, &c->rt, err)) ||
        (s = td_calib_input_names(m, &c->names, &c->n_in, err)) ||
        (s = td_samples_open(o->sources, o->n_sources, c->names, c->n_in,
                             &c->smp, err)))
        goto fail;
    if (o->loop.n &&
        (s = td_calib_loop_check(m, c->names, c->n_in, &o->loop, err)))
        goto fail;
    c->n = td_samples_count(c->smp);
    if (!c->n) {
        s = td_err_set(err, TD_EINPUT, "options.calib: the sources hold no input");
        goto fail;
    }
    c->k = o->holdout < 0 ? td_calib_default_holdout(c->n) : (size_t)o->holdout;
    if (c->k >= c->n) {
        s = td_err_set(err, TD_EUSAGE, "options.holdout %zu leaves no calibration "
                       "input of the %zu given (at most %zu)", c->k, c->n,
                       c->n - 1);
        goto fail;
    }
    c->held = calloc(c->n, 1);
    c->calib = calloc(c->n, 1);
    c->refs = calloc(c->n, sizeof *c->refs);
    c->arena = td_arena_new();
    if (!c->held || !c->calib || !c->arena || !c->refs) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto fail;
    }
    if (o->loop.n)
        td_calib_holdout_tail(c->n, c->k, c->held);
    else
        td_calib_holdout(c->n, c->k, c->held);
    for (size_t i = 0; i < c->n; i++)
        c->calib[i] = !c->held[i];
    double t0 = td_now();
    /* the statistics outputs keep big activations alive: no memory
     * pattern planning them all into one block (td_rt.h) */
    td_rt_options stats_rt = o->rt;
    stats_rt.low_memory = 1;
    if ((s = td_calib_stats(c->rt, m, c->smp, c->n_in, c->calib, o->folds,
                            &stats_rt,
                            "the calibration inputs", &c->stats, err)))
        goto fail;
    c->stats_seconds = td_now() - t0;
    c->stats_peak_rss = peak_rss();
    /* the original as it is now, for the comparison after the pass */
    if (!(c->orig = td_model_fork_graph(m, c->arena))) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto fail;
    }
    *out = c;
    return TD_OK;
fail:
    td_calib_free(c);
    return s;
}

/* A session on m (with graph g, NULL: its own), serialized only for as
 * long as the runtime takes to read it. */
static td_status session_of(td_calib *c, td_model *m, td_graph *g,
                            const char *label, td_rt_session **out,
                            td_err_t *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    td_status s = td_model_pack(m, g, &buf, &len, err);
    if (!s)
        s = td_rt_session_new_mem(c->rt, buf, len, label, &c->o.rt, out, err);
    free(buf);
    return s;
}

size_t td_calib_measure_count(const td_calib *c)
{
    return c->k ? c->k : c->n;
}

int td_calib_measure_held(const td_calib *c)
{
    return c->k != 0;
}

td_status td_calib_measure_graph(td_calib *c, td_model *m, td_graph *g,
                                 size_t runs, td_measured *out, td_err_t *err)
{
    /* no input held out: the deviation is measured on the calibration
     * inputs (and the report says so) */
    return td_calib_measure_on(c, m, g, c->k ? c->held : c->calib, runs, out,
                               err);
}

const unsigned char *td_calib_calibration_set(const td_calib *c, size_t *n)
{
    *n = c->n;
    return c->calib;
}

td_samples *td_calib_samples(const td_calib *c)
{
    return c->smp;
}

td_status td_calib_measure_on(td_calib *c, td_model *m, td_graph *g,
                              const unsigned char *use, size_t runs,
                              td_measured *out, td_err_t *err)
{
    td_rt_session *a = NULL, *b = NULL;
    td_status s = session_of(c, m, c->orig, "the original model", &a, err);
    if (!s)
        s = session_of(c, m, g, "the compressed model", &b, err);
    size_t fresh = 0;  /* the original's runs this time */
    for (size_t i = 0; !s && i < c->n; i++)
        fresh += use[i] && !c->refs[i];
    if (!s) {
        c->n_refs_out = td_rt_n_outputs(a);
        s = td_calib_measure(c->rt, a, b, c->smp, c->n_in, use, runs,
                             c->refs, &c->o.loop, c->o.iou_threshold, out,
                             err);
    }
    if (!s)
        c->model_runs += fresh + out->samples;
    td_rt_session_free(a);
    td_rt_session_free(b);
    if (!s) {
        out->on_calibration = c->k == 0;
        out->in_loop = c->o.loop.n != 0;
        out->calib_samples = c->n - c->k;
        out->stats_seconds = c->stats_seconds;
        out->stats_peak_rss = c->stats_peak_rss;
    }
    return s;
}

size_t td_calib_model_runs(const td_calib *c)
{
    return c ? c->model_runs : 0;
}

td_status td_calib_end(td_calib *c, td_model *m, td_measured *out,
                       td_err_t *err)
{
    return td_calib_measure_graph(c, m, NULL, c->o.runs, out, err);
}
