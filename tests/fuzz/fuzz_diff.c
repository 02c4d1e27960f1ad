/* libFuzzer target: diff's oracles. The input is two models: a 4-byte
 * little-endian length of the first, its bytes, then the second's. For
 * every model that loads, diff(A, A) and diff(A, A loaded again) say
 * "same"; for two that load, diff(A, B) and diff(B, A) agree on
 * same/different, on the number of differences and on the number of lines
 * of their text reports (what one calls added the other calls removed).
 * Every failure must come with a message. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static onnxtd_model *load(const char *path)
{
    onnxtd_load_options lo = {0, FUZZ_MEM_LIMIT};
    onnxtd_error err = {0};
    onnxtd_model *m = NULL;
    onnxtd_status s = onnxtd_model_load(path, &lo, &m, &err);
    check_error(s, &err);
    return s == ONNXTD_OK ? m : NULL;
}

struct outcome {
    onnxtd_status status;
    int differ;
    long long count;  /* "differences" in the JSON report */
    size_t lines;     /* of the text report */
};

static struct outcome diff(onnxtd_model *a, onnxtd_model *b)
{
    struct outcome o = {ONNXTD_OK, 0, -1, 0};
    onnxtd_error err = {0};
    char *json = NULL, *text = NULL;
    int differ_text = 0;
    o.status = onnxtd_model_diff(a, b, 1, &json, &o.differ, &err);
    check_error(o.status, &err);
    onnxtd_status s = onnxtd_model_diff(a, b, 0, &text, &differ_text, &err);
    check_error(s, &err);
    if (s != o.status || (s == ONNXTD_OK && differ_text != o.differ)) {
        fprintf(stderr, "diff: JSON and text disagree (status %d/%d, "
                "differ %d/%d)\n", (int)o.status, (int)s, o.differ,
                differ_text);
        abort();
    }
    const char *k = json ? strstr(json, "\"differences\":") : NULL;
    if (k)
        o.count = strtoll(k + 14, NULL, 10);
    for (const char *p = text; p && *p; p++)
        o.lines += *p == '\n';
    free(json);
    free(text);
    return o;
}

static void expect_same(onnxtd_model *a, onnxtd_model *b, const char *what)
{
    struct outcome o = diff(a, b);
    if (o.status == ONNXTD_OK && (o.differ || o.count != 0)) {
        fprintf(stderr, "diff(%s) reports %lld differences\n", what, o.count);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    size_t na = (size_t)data[0] | (size_t)data[1] << 8 |
                (size_t)data[2] << 16 | (size_t)data[3] << 24;
    data += 4;
    size -= 4;
    if (na > size)
        na = size;
    char pa[128], pb[128];
    snprintf(pa, sizeof pa, "%s", fuzz_path("model.onnx"));
    snprintf(pb, sizeof pb, "%s", fuzz_path("out.onnx"));
    if (write_all(pa, data, na) || write_all(pb, data + na, size - na))
        abort();
    onnxtd_model *a = load(pa), *a2 = load(pa), *b = load(pb);
    if (a && !a2) {
        fprintf(stderr, "the same bytes loaded once, then not\n");
        abort();
    }
    if (a) {
        expect_same(a, a, "A, A");
        expect_same(a, a2, "A, A loaded again");
    }
    if (a && b) {
        struct outcome ab = diff(a, b), ba = diff(b, a);
        if (ab.status != ba.status ||
            (ab.status == ONNXTD_OK &&
             (ab.differ != ba.differ || ab.count != ba.count ||
              ab.lines != ba.lines))) {
            fprintf(stderr, "diff(A, B) and diff(B, A) disagree: status "
                    "%d/%d, differ %d/%d, differences %lld/%lld, report "
                    "lines %zu/%zu\n", (int)ab.status, (int)ba.status,
                    ab.differ, ba.differ, ab.count, ba.count, ab.lines,
                    ba.lines);
            abort();
        }
    }
    onnxtd_model_free(a);
    onnxtd_model_free(a2);
    onnxtd_model_free(b);
    return 0;
}
