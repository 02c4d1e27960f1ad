/* .npy headers beyond what numpy.save writes by default (versions 2.0 and
 * 3.0, scalars, one-dim shapes, Python 2's 3L, keys in any order) and the
 * refusals, on bytes built here. */
#include <stdlib.h>
#include <string.h>

#include "data/td_npy.h"
#include "tcheck.h"

/* magic, version, header padded with spaces to a multiple of 64, data. */
static unsigned char *npy(int major, const char *dict, const void *data,
                          size_t n, size_t *len)
{
    size_t pre = major == 1 ? 10 : 12, h = strlen(dict) + 1;
    size_t total = (pre + h + 63) / 64 * 64;
    unsigned char *b = malloc(total + n);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    size_t hl = total - pre;
    b[8] = (unsigned char)(hl & 255);
    b[9] = (unsigned char)(hl >> 8);
    if (major != 1)
        b[10] = b[11] = 0;
    memset(b + pre, ' ', hl);
    memcpy(b + pre, dict, strlen(dict));
    b[total - 1] = '\n';
    if (n)
        memcpy(b + total, data, n);
    *len = total + n;
    return b;
}

static td_status parse(int major, const char *dict, const void *data, size_t n,
                       td_array *a, td_err_t *err)
{
    size_t len;
    unsigned char *b = npy(major, dict, data, n, &len);
    td_status s = td_npy_parse(b, len, "x.npy", a, err);
    free(b);
    return s;
}

int main(void)
{
    td_err_t err = {0};
    td_array a;
    float f[6] = {1, 2, 3, 4, 5, 6};
    CHECK(parse(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                f, sizeof f, &a, &err) == TD_OK);
    CHECK(a.dtype == TD_DT_FLOAT && a.ndim == 2 && a.dims[0] == 2 && a.dims[1] == 3);
    CHECK(td_array_get(&a, 5) == 6.0);
    td_array_clear(&a);
    CHECK(parse(3, "{\"shape\":(6L,),\"fortran_order\":False,\"descr\":\"<f4\"}",
                f, sizeof f, &a, &err) == TD_OK);
    CHECK(a.ndim == 1 && a.dims[0] == 6);
    td_array_clear(&a);
    int64_t k = -7;
    CHECK(parse(2, "{'descr': '<i8', 'fortran_order': False, 'shape': ()}",
                &k, sizeof k, &a, &err) == TD_OK);
    CHECK(a.ndim == 0 && a.nbytes == 8 && td_array_get(&a, 0) == -7.0);
    td_array_clear(&a);
    uint16_t h[2] = {0x3c00, 0xc000};  /* 1.0, -2.0 in IEEE half */
    CHECK(parse(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,)}",
                h, sizeof h, &a, &err) == TD_OK);
    CHECK(td_array_get(&a, 0) == 1.0 && td_array_get(&a, 1) == -2.0);
    td_array_clear(&a);
    /* A zero-size dim: no data, no error. */
    CHECK(parse(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (0, 4)}",
                NULL, 0, &a, &err) == TD_OK);
    CHECK(a.nbytes == 0);
    td_array_clear(&a);

    unsigned char two = 2;
    CHECK(parse(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (1,)}",
                &two, 1, &a, &err) == TD_EINPUT);
    CHECK_MSG(strstr(err.msg, "x.npy: .npy bool element 0"), "%s", err.msg);
    CHECK(parse(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}",
                f, sizeof f, &a, &err) == TD_EINPUT);
    CHECK_MSG(strstr(err.msg, "Fortran order"), "%s", err.msg);
    CHECK(parse(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (3,)}",
                f, sizeof f, &a, &err) == TD_EINPUT);
    CHECK_MSG(strstr(err.msg, "'<c8' is not supported"), "%s", err.msg);
    CHECK(parse(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,)}",
                f, 12, &a, &err) == TD_EINPUT);
    CHECK_MSG(strstr(err.msg, "structured"), "%s", err.msg);
    CHECK(parse(1, "{'descr': '<f4', 'shape': (6,)}", f, sizeof f, &a, &err) == TD_EINPUT);
    CHECK_MSG(strstr(err.msg, "lacks 'fortran_order'"), "%s", err.msg);
    CHECK(parse(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
                f, sizeof f, &a, &err) == TD_EINPUT);
    CHECK(parse(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 8)}",
                f, sizeof f, &a, &err) != TD_OK);
    CHECK(parse(4, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}",
                f, sizeof f, &a, &err) == TD_EINPUT);
    CHECK_MSG(strstr(err.msg, "version 4.0"), "%s", err.msg);
    /* A header length past the end of the file. */
    size_t len;
    unsigned char *b = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}",
                           f, sizeof f, &len);
    b[9] = 0x7f;
    CHECK(td_npy_parse(b, len, "x.npy", &a, &err) == TD_EINPUT);
    CHECK_MSG(strstr(err.msg, "x.npy: .npy header is truncated"), "%s", err.msg);
    free(b);
    return TCHECK_DONE();
}
