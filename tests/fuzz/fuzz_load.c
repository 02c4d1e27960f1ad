/* libFuzzer target: loading a model from hostile bytes must end in a model
 * or an error with a message, never in a crash, hang, leak or sanitizer
 * report. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path("model.onnx");
    if (write_all(path, data, size))
        abort();
    onnxtd_load_options lo = {0, FUZZ_MEM_LIMIT};
    onnxtd_error err = {0};
    onnxtd_model *m = NULL;
    onnxtd_status s = onnxtd_model_load(path, &lo, &m, &err);
    check_error(s, &err);
    if (s == ONNXTD_OK) {
        onnxtd_model_free(m);
    } else if (m) {
        abort();  /* a failed load must not hand out a model */
    }
    return 0;
}
