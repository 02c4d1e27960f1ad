/* libFuzzer target: compress under every method and kind of target, then
 * save, reload and check. The first FUZZ_PARAM_BYTES bytes choose the
 * options, the rest is the model. A compress that succeeds must give a
 * model that saves, loads again and passes the graph check (one producer
 * per name, no dangling edge, topological order); a failure must come with
 * a message. */
#include "fuzz_common.h"

#include "graph/td_graph.h"
#include "graph/td_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_PARAM_BYTES 4

/* byte 0: method (6) x target (5: rank, ratio, tol, params, flops);
 * byte 1: the target's value; byte 2: flags (force, no BN folding, the
 * absolute sensitivity, rank multiple 4); byte 3: HOOI/ALS sweeps 1-4. */
static void options(const uint8_t *p, onnxtd_compress_options *co)
{
    onnxtd_compress_options_init(co);
    co->method = (onnxtd_method)(p[0] % 6);
    double v = (p[1] + 1) / 256.0;  /* in (0, 1] */
    onnxtd_budget *b = &co->budget;
    switch ((p[0] / 6) % 5) {
    case 0: b->kind = ONNXTD_BUDGET_RANK; b->rank = 1 + p[1] % 16; break;
    case 1: b->kind = ONNXTD_BUDGET_RATIO; b->value = v; break;
    case 2: b->kind = ONNXTD_BUDGET_TOL; b->value = p[1] / 255.0; break;
    case 3: b->kind = ONNXTD_BUDGET_TARGET_PARAMS; b->value = v; break;
    default: b->kind = ONNXTD_BUDGET_TARGET_FLOPS; b->value = v; break;
    }
    co->force = p[2] & 1;
    co->fold_bn = !((p[2] >> 1) & 1);
    co->sensitivity = (onnxtd_sensitivity)((p[2] >> 2) & 1);
    co->rank_multiple = (p[2] & 8) ? 4 : 1;
    co->threads = 1;
    co->max_sweeps = 1 + p[3] % 4;
    co->measure_runs = 0;  /* no ONNX Runtime: the input is what is fuzzed */
}

static void reload_and_check(const char *path)
{
    onnxtd_load_options lo = {0, FUZZ_MEM_LIMIT};
    onnxtd_error err = {0};
    onnxtd_model *m = NULL;
    if (onnxtd_model_load(path, &lo, &m, &err) != ONNXTD_OK) {
        fprintf(stderr, "compressed model does not load: %s\n", err.message);
        abort();
    }
    td_err_t e = {0};
    if (td_graph_check(td_model_graph((td_model *)m), &e) != TD_OK) {
        fprintf(stderr, "compressed model fails the graph check: %s\n", e.msg);
        abort();
    }
    onnxtd_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < FUZZ_PARAM_BYTES)
        return 0;
    onnxtd_compress_options co;
    options(data, &co);
    char in[128], out[128];
    snprintf(in, sizeof in, "%s", fuzz_path("model.onnx"));
    snprintf(out, sizeof out, "%s", fuzz_path("out.onnx"));
    if (write_all(in, data + FUZZ_PARAM_BYTES, size - FUZZ_PARAM_BYTES))
        abort();
    onnxtd_load_options lo = {0, FUZZ_MEM_LIMIT};
    onnxtd_error err = {0};
    onnxtd_model *m = NULL;
    onnxtd_status s = onnxtd_model_load(in, &lo, &m, &err);
    check_error(s, &err);
    if (s != ONNXTD_OK)
        return 0;
    onnxtd_report *report = NULL;
    s = onnxtd_compress(m, &co, &report, &err);
    check_error(s, &err);
    if (s == ONNXTD_OK) {
        onnxtd_save_options so = {NULL, 0};
        s = onnxtd_model_save(m, out, &so, &err);
        check_error(s, &err);
        if (s == ONNXTD_OK)
            reload_and_check(out);
    }
    onnxtd_report_free(report);
    onnxtd_model_free(m);
    return 0;
}
