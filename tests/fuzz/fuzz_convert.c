/* libFuzzer target: whatever loads must save, and what was saved must load
 * again (inline, and with tensors moved to a side file). A model that loads
 * but cannot be written back, or is written into something unreadable, is
 * a finding. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reload(const char *path)
{
    onnxtd_load_options lo = {0, FUZZ_MEM_LIMIT};
    onnxtd_error err = {0};
    onnxtd_model *m = NULL;
    onnxtd_status s = onnxtd_model_load(path, &lo, &m, &err);
    if (s != ONNXTD_OK) {
        fprintf(stderr, "written model does not load: %s\n", err.message);
        abort();
    }
    onnxtd_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_path("model.onnx");
    char in[128], out[128];
    snprintf(in, sizeof in, "%s", p);
    snprintf(out, sizeof out, "%s", fuzz_path("out.onnx"));
    if (write_all(in, data, size))
        abort();
    onnxtd_load_options lo = {0, FUZZ_MEM_LIMIT};
    onnxtd_error err = {0};
    onnxtd_model *m = NULL;
    onnxtd_status s = onnxtd_model_load(in, &lo, &m, &err);
    check_error(s, &err);
    if (s != ONNXTD_OK)
        return 0;
    onnxtd_save_options inl = {NULL, 0};
    s = onnxtd_model_save(m, out, &inl, &err);
    check_error(s, &err);
    if (s == ONNXTD_OK)
        reload(out);
    /* The side file path: every raw tensor of at least 16 bytes moves out. */
    onnxtd_save_options ext = {"out.bin", 16};
    s = onnxtd_model_save(m, out, &ext, &err);
    check_error(s, &err);
    if (s == ONNXTD_OK)
        reload(out);
    onnxtd_model_free(m);
    return 0;
}
