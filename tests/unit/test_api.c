/* The public API in its own terms: the options' initializer and size
 * check, each kind of budget, NULL arguments, loading from and saving to
 * memory, the report's accessors and renderers, and EUNMET for a target
 * the model cannot reach. On small_cnn.onnx (tests/onnx_models/), whose
 * numbers under tucker2 rank 4 are those `onnxtd compress --report` gives. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnxtd.h"
#include "tcheck.h"

/* small_cnn.onnx: 6 layers (4 Conv, a 1x1 projection, a Gemm), 4
 * BatchNormalization; tucker2 rank 4 (cost model off) factors the four
 * 3x3 convs. */
enum { CNN_LAYERS = 6, CNN_TUCKER2_REPLACED = 4 };
static const int64_t cnn_params_before = 68330, cnn_params_tucker2_r4 = 8991;
static const int64_t cnn_macs_before = 36373440, cnn_macs_tucker2_r4 = 3761088;

static char model_path[1024];

static void find_model(void)
{
    const char *here = __FILE__, *slash = strrchr(here, '/');
    int n = slash ? (int)(slash - here) : 1;
    snprintf(model_path, sizeof model_path, "%.*s/../onnx_models/small_cnn.onnx",
             n, slash ? here : ".");
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) &&
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    *len = buf ? (size_t)n : 0;
    fclose(f);
    return buf;
}

static onnxtd_model *load(void)
{
    onnxtd_model *m = NULL;
    onnxtd_error err = {0};
    CHECK_MSG(onnxtd_model_load(model_path, NULL, &m, &err) == ONNXTD_OK,
              "%s", err.message);
    return m;
}

/* Compresses a fresh copy with o; the status, *report kept when asked. */
static onnxtd_status compress(const onnxtd_compress_options *o,
                              onnxtd_report **report, onnxtd_error *err)
{
    onnxtd_model *m = load();
    onnxtd_status s = onnxtd_compress(m, o, report, err);
    onnxtd_model_free(m);
    return s;
}

static void tucker2_r4(onnxtd_compress_options *o)
{
    onnxtd_compress_options_init(o);
    o->method = ONNXTD_METHOD_TUCKER2;
    o->budget.kind = ONNXTD_BUDGET_RANK;
    o->budget.rank = 4;
    o->allow_slower = 1;
    o->threads = 1;
}

static void test_init_and_size(void)
{
    onnxtd_compress_options o;
    memset(&o, 0xab, sizeof o);
    onnxtd_compress_options_init(&o);
    CHECK(o.size == sizeof o);
    CHECK(o.budget.kind == ONNXTD_BUDGET_NONE && o.fold_bn == 1);
    CHECK(o.max_sweeps == 10 && o.fit_tol == 1e-4 && o.act_lambda == 0.1);
    CHECK(o.rank_multiple == 0 && o.min_rank == 1);
    CHECK(o.holdout == ONNXTD_HOLDOUT_AUTO && o.measure_runs == 10);
    CHECK(o.include == NULL && o.calib == NULL && o.progress == NULL);
    /* data-free guards on by default (bench/README.md, "Data-free
     * defaults") */
    CHECK(o.protect == 1 && o.max_layer_error == ONNXTD_DEFAULT_MAX_LAYER_ERROR);
    CHECK(o.softmax_metric == 0);  /* the default share */

    onnxtd_error err = {0};
    size_t bad[] = {0, 1, offsetof(onnxtd_compress_options, budget) + 1,
                    sizeof o + sizeof(void *)};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tucker2_r4(&o);
        o.size = bad[i];
        CHECK_MSG(compress(&o, NULL, &err) == ONNXTD_EUSAGE &&
                      strstr(err.message, "options.size"),
                  "size %zu: %s", bad[i], err.message);
    }

    /* An older caller's struct ends at budget: what follows is not its
     * own and must be read as the defaults, not as the junk there. */
    onnxtd_report *a = NULL, *b = NULL;
    tucker2_r4(&o);
    o.allow_slower = 0;
    CHECK(compress(&o, &a, &err) == ONNXTD_OK);
    o.size = offsetof(onnxtd_compress_options, include);
    o.include = "(";      /* not a regex */
    o.min_rank = -5;      /* refused if read */
    o.fold_bn = 0;
    CHECK_MSG(compress(&o, &b, &err) == ONNXTD_OK, "%s", err.message);
    CHECK(a && b && onnxtd_report_params_after(a) ==
                        onnxtd_report_params_after(b));
    CHECK(b && onnxtd_report_replaced(b) == onnxtd_report_replaced(a));
    onnxtd_report_free(a);
    onnxtd_report_free(b);

    /* the struct as it was before softmax_metric: accepted */
    tucker2_r4(&o);
    o.size = offsetof(onnxtd_compress_options, softmax_metric);
    o.softmax_metric = NAN;  /* refused if read */
    CHECK_MSG(compress(&o, &b, &err) == ONNXTD_OK, "%s", err.message);
    onnxtd_report_free(b);
    b = NULL;
    o.size = sizeof o;
    CHECK(compress(&o, &b, &err) == ONNXTD_EUSAGE &&
          strstr(err.message, "softmax_metric"));
    onnxtd_report_free(b);
}

static void test_budgets(void)
{
    static const struct {
        onnxtd_budget_kind kind;
        double value, also_flops;
        int64_t rank;
    } ok[] = {
        {ONNXTD_BUDGET_NONE, 0, 0, 0},    {ONNXTD_BUDGET_RANK, 0, 0, 2},
        {ONNXTD_BUDGET_RATIO, 0.3, 0, 0}, {ONNXTD_BUDGET_TOL, 0.2, 0, 0},
        {ONNXTD_BUDGET_TARGET_PARAMS, 0.8, 0, 0},
        {ONNXTD_BUDGET_TARGET_PARAMS, 0.8, 0.9, 0},
        {ONNXTD_BUDGET_TARGET_FLOPS, 0.8, 0, 0},
        {ONNXTD_BUDGET_VBMF, 1, 0, 0}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        onnxtd_compress_options o;
        onnxtd_compress_options_init(&o);
        o.threads = 1;
        o.allow_slower = 1;
        o.budget.kind = ok[i].kind;
        o.budget.value = ok[i].value;
        o.budget.rank = ok[i].rank;
        o.budget.also_flops = ok[i].also_flops;
        onnxtd_report *r = NULL;
        onnxtd_error err = {0};
        CHECK_MSG(compress(&o, &r, &err) == ONNXTD_OK, "kind %d: %s",
                  (int)ok[i].kind, err.message);
        CHECK_MSG(r && onnxtd_report_params_after(r) < cnn_params_before,
                  "kind %d kept every parameter", (int)ok[i].kind);
        if (r && (ok[i].kind == ONNXTD_BUDGET_TARGET_PARAMS))
            CHECK(onnxtd_report_params_after(r) <=
                  (int64_t)(0.8 * (double)cnn_params_before) + 1);
        onnxtd_report_free(r);
    }
    static const struct {
        onnxtd_budget_kind kind;
        double value, also_flops;
        int64_t rank;
        const char *msg;
    } bad[] = {
        {ONNXTD_BUDGET_RANK, 0, 0, 0, "options.budget.rank (rank)"},
        {ONNXTD_BUDGET_RATIO, 0, 0, 0, "options.budget.value (ratio) must be in (0, 1]"},
        {ONNXTD_BUDGET_TOL, 1, 0, 0, "options.budget.value (tol) must be in [0, 1)"},
        {ONNXTD_BUDGET_TARGET_FLOPS, 1.5, 0, 0, "(target_flops) must be in (0, 1]"},
        {ONNXTD_BUDGET_VBMF, 0, 0, 0, "(vbmf) must be in (0, 1]"},
        {ONNXTD_BUDGET_RATIO, 0.5, 0.5, 0, "options.budget.also_flops"},
        {(onnxtd_budget_kind)42, 0.5, 0, 0, "options.budget.kind 42"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        onnxtd_compress_options o;
        onnxtd_compress_options_init(&o);
        o.budget.kind = bad[i].kind;
        o.budget.value = bad[i].value;
        o.budget.rank = bad[i].rank;
        o.budget.also_flops = bad[i].also_flops;
        onnxtd_error err = {0};
        onnxtd_report *r = (onnxtd_report *)&err;  /* must become NULL */
        CHECK_MSG(compress(&o, &r, &err) == ONNXTD_EUSAGE &&
                      strstr(err.message, bad[i].msg) && !r,
                  "bad budget %zu: %s", i, err.message);
        CHECK(!strstr(err.message, "--"));
    }
}

static void test_fields_named(void)
{
    onnxtd_compress_options o;
    onnxtd_error err = {0};
    const char *calib[] = {"x"};
    onnxtd_compress_options_init(&o);
    o.holdout = 2;
    CHECK(compress(&o, NULL, &err) == ONNXTD_EUSAGE &&
          strstr(err.message, "options.holdout needs options.calib"));
    onnxtd_compress_options_init(&o);
    o.calib = calib, o.n_calib = 1, o.act_stats = "y";
    CHECK(compress(&o, NULL, &err) == ONNXTD_EUSAGE &&
          strstr(err.message, "options.calib and options.act_stats"));
    onnxtd_compress_options_init(&o);
    o.include = "(";
    CHECK_MSG(compress(&o, NULL, &err) == ONNXTD_EUSAGE &&
                  strstr(err.message, "options.include") &&
                  !strstr(err.message, "--"),
              "%s", err.message);
    onnxtd_compress_options_init(&o);
    o.act_lambda = 0;
    CHECK(compress(&o, NULL, &err) == ONNXTD_EUSAGE &&
          strstr(err.message, "options.act_lambda"));
}

static void test_nulls(void)
{
    onnxtd_error err = {0};
    onnxtd_compress_options o;
    onnxtd_compress_options_init(&o);
    onnxtd_model *m = load();
    onnxtd_report *r = NULL;
    char *s = NULL;
    unsigned char *bytes = NULL;
    size_t len = 0;
    int differ = 0;
#define USAGE(call, arg)                                                       \
    CHECK_MSG((call) == ONNXTD_EUSAGE && strstr(err.message, arg " is NULL"), \
              "%s", err.message)
    USAGE(onnxtd_compress(NULL, &o, &r, &err), "m");
    USAGE(onnxtd_compress(m, NULL, &r, &err), "opts");
    onnxtd_model *none = m;
    USAGE(onnxtd_model_load(NULL, NULL, &none, &err), "path");
    CHECK(none == NULL);
    USAGE(onnxtd_model_load(model_path, NULL, NULL, &err), "out");
    none = m;
    USAGE(onnxtd_model_load_memory(NULL, 10, NULL, &none, &err), "data");
    CHECK(none == NULL);
    USAGE(onnxtd_model_save(NULL, "x.onnx", NULL, &err), "m");
    USAGE(onnxtd_model_save(m, NULL, NULL, &err), "path");
    USAGE(onnxtd_model_save_memory(NULL, NULL, &bytes, &len, &err), "m");
    USAGE(onnxtd_model_save_memory(m, NULL, NULL, &len, &err), "data");
    USAGE(onnxtd_model_info(NULL, 0, &s, &err), "m");
    USAGE(onnxtd_model_info(m, 0, NULL, &err), "out");
    USAGE(onnxtd_model_diff(m, NULL, 0, &s, &differ, &err), "b");
    USAGE(onnxtd_eval(NULL, 0, &s, &differ, &err), "o");
    {   /* state pairs: the array, and both names of each pair */
        onnxtd_eval_options eo;
        onnxtd_eval_options_init(&eo);
        USAGE(onnxtd_eval_loop(&eo, NULL, 1, 0, &s, &differ, &err), "state");
        onnxtd_state_pair half = {"state", NULL};
        CHECK(onnxtd_eval_loop(&eo, &half, 1, 0, &s, &differ, &err) ==
                  ONNXTD_EUSAGE &&
              strstr(err.message, "state 0: an input and an output name"));
    }
    USAGE(onnxtd_report_json(NULL, &s, &err), "r");
    USAGE(onnxtd_report_text(NULL, &s, &err), "r");
    USAGE(onnxtd_report_html(r, NULL, &err), "out");
    USAGE(onnxtd_report_stats(NULL, (const unsigned char **)&bytes, &len, &err), "r");
    USAGE(onnxtd_outputs_check(NULL, &err), "o");
    USAGE(onnxtd_stats_model(NULL, NULL, &err), "m");
#undef USAGE
    /* err itself may be NULL */
    CHECK(onnxtd_compress(NULL, NULL, NULL, NULL) == ONNXTD_EUSAGE);
    onnxtd_compress_options_init(NULL);
    onnxtd_report_free(NULL);
    CHECK(onnxtd_report_layers(NULL) == 0 && onnxtd_report_macs_after(NULL) == -1);
    onnxtd_model_free(m);
}

/* The bytes of a file save of m. */
static unsigned char *file_bytes(onnxtd_model *m, const char *dir,
                                 const onnxtd_save_options *so, size_t *len)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/saved.onnx", dir);
    onnxtd_error err = {0};
    CHECK_MSG(onnxtd_model_save(m, path, so, &err) == ONNXTD_OK, "%s",
              err.message);
    return read_all(path, len);
}

static void test_memory(const char *dir)
{
    size_t n_file = 0, n_mem = 0, n_saved = 0;
    unsigned char *file = read_all(model_path, &n_file), *mem = NULL;
    onnxtd_model *m = NULL;
    onnxtd_error err = {0};
    CHECK(file && n_file > 0);
    CHECK_MSG(onnxtd_model_load_memory(file, n_file, NULL, &m, &err) ==
                  ONNXTD_OK, "%s", err.message);
    memset(file, 0, n_file);  /* the model keeps its own copy */
    CHECK(onnxtd_model_save_memory(m, NULL, &mem, &n_mem, &err) == ONNXTD_OK);
    onnxtd_model *f = load();
    unsigned char *saved = file_bytes(f, dir, NULL, &n_saved);
    CHECK_MSG(mem && saved && n_mem == n_saved && !memcmp(mem, saved, n_mem),
              "memory save %zu bytes, file save %zu", n_mem, n_saved);
    free(mem);
    free(saved);
    mem = saved = NULL;

    /* compressed, the same */
    onnxtd_compress_options o;
    tucker2_r4(&o);
    CHECK(onnxtd_compress(m, &o, NULL, &err) == ONNXTD_OK);
    CHECK(onnxtd_compress(f, &o, NULL, &err) == ONNXTD_OK);
    CHECK(onnxtd_model_save_memory(m, NULL, &mem, &n_mem, &err) == ONNXTD_OK);
    saved = file_bytes(f, dir, NULL, &n_saved);
    CHECK(mem && saved && n_mem == n_saved && !memcmp(mem, saved, n_mem));
    free(mem);
    free(saved);
    onnxtd_save_options ext = {"w.bin", 16};
    CHECK(onnxtd_model_save_memory(m, &ext, &mem, &n_mem, &err) == ONNXTD_EUSAGE &&
          strstr(err.message, "options.external_data") && !mem);
    onnxtd_model_free(m);
    m = NULL;

    /* tensors in a second file cannot be read from memory */
    saved = file_bytes(f, dir, &ext, &n_saved);
    CHECK(onnxtd_model_load_memory(saved, n_saved, NULL, &m, &err) ==
              ONNXTD_EINPUT && !m && strstr(err.message, "external data"));
    free(saved);
    onnxtd_model_free(f);

    static const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    CHECK(onnxtd_model_load_memory(junk, sizeof junk, NULL, &m, &err) ==
              ONNXTD_EINPUT && !m && strstr(err.message, "memory: "));
    CHECK(onnxtd_model_load_memory(junk, 0, NULL, &m, &err) == ONNXTD_EINPUT);
    free(file);
}

static void test_report(void)
{
    onnxtd_compress_options o;
    tucker2_r4(&o);
    o.measure_runs = 0;  /* no end-of-compress timing: no latency ratio */
    onnxtd_model *m = load();
    onnxtd_report *r = NULL;
    onnxtd_error err = {0};
    CHECK_MSG(onnxtd_compress(m, &o, &r, &err) == ONNXTD_OK, "%s", err.message);
    onnxtd_model_free(m);  /* the report outlives the model */
    CHECK(onnxtd_report_layers(r) == CNN_LAYERS);
    CHECK(onnxtd_report_replaced(r) == CNN_TUCKER2_REPLACED);
    CHECK(onnxtd_report_params_before(r) == cnn_params_before);
    CHECK(onnxtd_report_params_after(r) == cnn_params_tucker2_r4);
    CHECK(onnxtd_report_macs_before(r) == cnn_macs_before);
    CHECK(onnxtd_report_macs_after(r) == cnn_macs_tucker2_r4);
    size_t kept = 0;
    for (size_t i = 0; i < onnxtd_report_layers(r); i++) {
        const char *method = onnxtd_report_layer_method(r, i);
        CHECK(onnxtd_report_layer_name(r, i) && method);
        if (method && !strcmp(method, "keep")) {
            kept++;
            CHECK(onnxtd_report_layer_reason(r, i) != NULL);
        } else {
            CHECK(method && !strcmp(method, "tucker2"));
            CHECK(onnxtd_report_layer_reason(r, i) == NULL);
            CHECK(onnxtd_report_layer_error(r, i) > 0 &&
                  onnxtd_report_layer_error(r, i) < 1);
        }
    }
    CHECK(kept == CNN_LAYERS - CNN_TUCKER2_REPLACED);
    CHECK(!strcmp(onnxtd_report_layer_name(r, 0), "conv0"));
    CHECK(onnxtd_report_layer_name(r, CNN_LAYERS) == NULL);
    CHECK(onnxtd_report_measured_outputs(r) == 0);
    CHECK(onnxtd_report_latency_ratio(r) == -1);

    char *json = NULL, *text = NULL, *html = NULL;
    CHECK(onnxtd_report_json(r, &json, &err) == ONNXTD_OK);
    CHECK(onnxtd_report_text(r, &text, &err) == ONNXTD_OK);
    CHECK(onnxtd_report_html(r, &html, &err) == ONNXTD_OK);
    CHECK(json && !strncmp(json, "{\"layers\":[{\"node\":\"conv0\"", 26));
    CHECK(json && strstr(json, "\"model_params_after\":8991,"));
    CHECK(json && strstr(json, "\"flops_after\":3761088,"));
    CHECK(text && strstr(text, "conv2") && strstr(text, "68330"));
    CHECK(html && strstr(html, "<html") && strstr(html, "conv3"));
    const unsigned char *stats = (const unsigned char *)"x";
    size_t n = 1;
    CHECK(onnxtd_report_stats(r, &stats, &n, &err) == ONNXTD_OK &&
          stats == NULL && n == 0);
    free(json);
    free(text);
    free(html);
    onnxtd_report_free(r);
}

static void test_unmet(void)
{
    onnxtd_compress_options o;
    onnxtd_compress_options_init(&o);
    o.budget.kind = ONNXTD_BUDGET_TARGET_PARAMS;
    o.budget.value = 0.01;
    onnxtd_error err = {0};
    onnxtd_report *r = NULL;
    CHECK_MSG(compress(&o, &r, &err) == ONNXTD_EUNMET &&
                  strstr(err.message, "options.budget target_params 0.01 "
                                      "cannot be met") && !r,
              "%s", err.message);
    o.include = "nothing matches this";
    o.budget.value = 0.5;
    CHECK_MSG(compress(&o, &r, &err) == ONNXTD_EUNMET &&
                  strstr(err.message, "options.include/exclude leave no layer"),
              "%s", err.message);
}

int main(void)
{
    find_model();
    char dir[] = "/tmp/test_api.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    test_init_and_size();
    test_budgets();
    test_fields_named();
    test_nulls();
    test_memory(dir);
    test_report();
    test_unmet();
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return TCHECK_DONE();
}
