/* The probe: a layer and a chain timed against each other in ONNX Runtime
 * (td_lat.h), one pair at a time, the cache asked first. */
#include "calib/td_lat.h"

#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/td_readfile.h"
#include "eval/td_eval_internal.h"

/* Interleaved runs per pair: enough for a median to hold still on a
 * loaded machine (a small layer runs in tens of microseconds, and a few
 * dozen of its runs fit in one scheduler tick: a tick lost to another
 * process then moves them all), and no more than about TIME_BUDGET_MS of
 * runs for a pair, so that a model of a hundred big layers is timed in a minute or
 * two. A warm-up run first, then one timed pair that only sizes the runs:
 * the first runs of a session allocate its arena and pick kernels. */
#define MIN_RUNS 3
#define MAX_RUNS 201
#define WARMUP_RUNS 1
#define TIME_BUDGET_MS 150.0
/* Timing stops after this many seconds in one compression: the layers are
 * judged biggest first, where speed is won or lost, and past a minute the
 * timing would outweigh the factoring itself (ISNet fp16 at 1024x1024,
 * whose fp16 convs run up to 1.7 s each in ORT on CPU, took 206 s for 46
 * layers); the rest keep the cost model's verdict. */
#define MAX_TIMING_SECONDS 60.0
/* A cache file larger than this is not one (a line is ~300 bytes). */
#define CACHE_MAX_BYTES (64u << 20)

struct td_lat {
    td_rt *rt;              /* NULL: no runtime, no probe */
    td_rt_options ro;
    td_lat_cache *cache;
    pthread_mutex_t mu;     /* one timing at a time; guards the rest */
    td_latency_probe probe;
    size_t timed, cached, over_time;
    double seconds;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "a,b,c" of n values into buf (cap bytes) at *at. */
static void put_list(char *buf, size_t cap, size_t *at, const char *name,
                     const int64_t *v, size_t n)
{
    if (*at >= cap)
        return;
    *at += (size_t)snprintf(buf + *at, cap - *at, " %s=", name);
    for (size_t i = 0; i < n && *at < cap; i++)
        *at += (size_t)snprintf(buf + *at, cap - *at, "%s%lld", i ? "," : "",
                                (long long)v[i]);
}

/* What decides the two timings: the runtime and its options, the layer's
 * geometry and input shape (batch included), the chain's method and
 * ranks. 0 when it does not fit (never for real layers). */
static int make_key(const td_lat *t, const td_layer *l, const td_factors *f,
                    char *buf, size_t cap)
{
    int64_t x[TD_MAX_SPATIAL + 2] = {l->batch, l->cin};
    for (int i = 0; i < l->nsp; i++)
        x[2 + i] = l->in_sp[i];
    size_t at = (size_t)snprintf(buf, cap, "ort=%s threads=%d opt=%d op=%s "
                                 "dtype=%d", td_rt_version(t->rt), t->ro.threads,
                                 (int)t->ro.opt_level, l->node->op_type,
                                 (int)l->dtype);
    put_list(buf, cap, &at, "x", x, (size_t)l->nsp + 2);
    put_list(buf, cap, &at, "w", l->weight->dims, l->weight->n_dims);
    put_list(buf, cap, &at, "group", &l->group, 1);
    put_list(buf, cap, &at, "strides", l->strides, (size_t)l->nsp);
    put_list(buf, cap, &at, "pads", l->pads, 2 * (size_t)l->nsp);
    put_list(buf, cap, &at, "dilations", l->dilations, (size_t)l->nsp);
    if (at < cap)
        at += (size_t)snprintf(buf + at, cap - at, " auto_pad=%s bias=%d "
                               "method=%s", l->auto_pad,
                               l->has_bias || f->bias_shift != NULL,
                               td_method_name(f->method));
    if (l->kind == TD_LAYER_GEMM && at < cap)  /* Conv keys stay as they were */
        at += (size_t)snprintf(buf + at, cap - at, " trans=%lld,%lld",
                               (long long)l->trans_a, (long long)l->trans_b);
    put_list(buf, cap, &at, "ranks", f->ranks, (size_t)f->n_ranks);
    int64_t shape[3] = {f->taps, f->tr ? f->tr->shift : 0,
                        f->tr ? f->tr->r0 : 0};
    put_list(buf, cap, &at, "taps,tr", shape, 3);
    for (size_t i = 0; i < at && i < cap; i++)  /* names are the model's */
        if (buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r')
            buf[i] = ' ';
    return at < cap;
}

/* Layers the probe times: Convs, Gemms and MatMuls in fp32/fp16 with
 * every size known (a Gemm's or MatMul's rows: its batch). */
static int timeable(const td_layer *l)
{
    if (l->batch <= 0 ||
        (l->dtype != TD_DT_FLOAT && l->dtype != TD_DT_FLOAT16))
        return 0;
    for (int i = 0; i < l->nsp; i++)
        if (l->in_sp[i] <= 0 || l->out_sp[i] <= 0)
            return 0;
    return 1;
}

static td_status session(td_lat *t, const uint8_t *buf, size_t len,
                         const char *label, td_rt_session **out, td_err_t *err)
{
    return td_rt_session_new_mem(t->rt, buf, len, label, &t->ro, out, err);
}

/* Times the layer (a) against the chain (b): warm-up, a first pair to
 * size the runs, then the interleaved runs. */
static td_status time_pair(td_rt_session *a, td_rt_session *b,
                           td_lat_result *res, td_err_t *err)
{
    td_array *in = NULL;
    td_rt_timing ta, tb;
    td_status s = td_eval_random_sample(a, 0, 0, NULL, 0, &in, err);
    if (!s)
        s = td_rt_time(a, b, in, td_rt_n_inputs(a), 1, WARMUP_RUNS, &ta, &tb,
                       err);
    if (!s) {
        double per = ta.median_ms + tb.median_ms;
        size_t runs = per > 0 ? (size_t)(TIME_BUDGET_MS / per) : MAX_RUNS;
        runs = runs < MIN_RUNS ? MIN_RUNS : runs > MAX_RUNS ? MAX_RUNS : runs;
        s = td_rt_time(a, b, in, td_rt_n_inputs(a), runs | 1, 0, &ta, &tb, err);
    }
    if (!s) {
        res->layer_ms = ta.median_ms;
        res->chain_ms = tb.median_ms;
        res->ratio_q1 = tb.ratio_q1;
        res->ratio_median = tb.ratio_median;
        res->ratio_q3 = tb.ratio_q3;
    }
    if (in)
        td_array_free_n(in, td_rt_n_inputs(a));
    return s;
}

/* The two models built and timed; any failure is a layer not measured. */
static td_status measure_pair(td_lat *t, const td_layer *l,
                              const td_factors *f, int64_t opset,
                              td_lat_result *res, td_err_t *err)
{
    uint8_t *lm = NULL, *cm = NULL;
    size_t ll = 0, cl = 0;
    td_rt_session *a = NULL, *b = NULL;
    td_status s = td_lat_layer_model(l, opset, &lm, &ll, err);
    if (!s)
        s = td_lat_chain_model(l, f, opset, lm, ll, &cm, &cl, err);
    if (!s)
        s = session(t, lm, ll, "the layer alone", &a, err);
    if (!s)
        s = session(t, cm, cl, "the chain alone", &b, err);
    if (!s)
        s = time_pair(a, b, res, err);
    td_rt_session_free(a);
    td_rt_session_free(b);
    free(lm);
    free(cm);
    return s;
}

static int measure(void *ctx, const td_layer *l, const td_factors *f,
                   int64_t opset, td_lat_result *res)
{
    td_lat *t = ctx;
    char key[1024];
    if (!timeable(l) || !make_key(t, l, f, key, sizeof key))
        return 0;
    pthread_mutex_lock(&t->mu);
    int got = td_lat_cache_get(t->cache, key, res);
    res->cached = got;
    t->cached += (size_t)got;
    if (!got && t->seconds >= MAX_TIMING_SECONDS) {
        t->over_time++;
    } else if (!got) {
        td_err_t e = {0};
        double t0 = now_s();
        got = !measure_pair(t, l, f, opset, res, &e) &&
              res->layer_ms > 0 && res->chain_ms > 0 &&
              !td_lat_cache_put(t->cache, key, res, &e);
        t->seconds += now_s() - t0;
        t->timed += (size_t)got;
    }
    pthread_mutex_unlock(&t->mu);
    return got;
}

static td_status read_cache(td_lat *t, const char *path, td_err_t *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return TD_OK;  /* a first run: the cache starts empty */
    td_status s = td_read_file(path, CACHE_MAX_BYTES, &buf, &len, err);
    if (!s)
        s = td_lat_cache_parse(t->cache, path, (const char *)buf, len, err);
    free(buf);
    return s;
}

td_status td_lat_new(int timing, const char *ort_lib, const td_rt_options *ro,
                     const char *cache_path, td_lat **out, td_err_t *err)
{
    *out = NULL;
    td_lat *t = calloc(1, sizeof *t);
    if (!t || !(t->cache = td_lat_cache_new())) {
        free(t);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&t->mu, NULL);
    t->ro = *ro;
    td_status s = cache_path ? read_cache(t, cache_path, err) : TD_OK;
    if (s) {
        td_lat_free(t);
        return s;
    }
    td_err_t e = {0};
    if (timing && td_rt_open(ort_lib, &t->rt, &e))
        t->rt = NULL;  /* no runtime: the cost model alone */
    t->probe.measure = measure;
    t->probe.ctx = t;
    *out = t;
    return TD_OK;
}

void td_lat_free(td_lat *t)
{
    if (!t)
        return;
    td_rt_close(t->rt);
    td_lat_cache_free(t->cache);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

const td_latency_probe *td_lat_probe(td_lat *t)
{
    return t && t->rt ? &t->probe : NULL;
}

void td_lat_counts(const td_lat *t, size_t *timed, size_t *cached,
                   size_t *over_time, double *seconds)
{
    *over_time = t->over_time;
    *timed = t->timed;
    *cached = t->cached;
    *seconds = t->seconds;
}

td_status td_lat_cache_text(const td_lat *t, char **out, size_t *len,
                            td_err_t *err)
{
    return td_lat_cache_format(t->cache, out, len, err);
}
