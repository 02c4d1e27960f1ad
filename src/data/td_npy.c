#include "data/td_npy.h"

#include <stdlib.h>
#include <string.h>

#include "data/td_readfile.h"

#define MAX_RANK 32

typedef struct npy_header {
    int32_t dtype;
    int fortran, have_descr, have_fortran, have_shape;
    size_t ndim;
    int64_t dims[MAX_RANK];
} npy_header;

/* A cursor over the header text. */
typedef struct cur {
    const char *p, *end;
} cur;

static void skip_ws(cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n'))
        c->p++;
}

static int eat(cur *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted Python string (no escapes in what numpy writes) into out. */
static int string_lit(cur *c, char *out, size_t cap)
{
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return -1;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (n + 1 >= cap)
            return -1;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return -1;
    c->p++;
    out[n] = '\0';
    return 0;
}

static int32_t descr_dtype(const char *d)
{
    static const struct {
        const char *code;
        int32_t dtype;
    } map[] = {{"f4", TD_DT_FLOAT}, {"f2", TD_DT_FLOAT16}, {"f8", TD_DT_DOUBLE},
               {"i1", TD_DT_INT8},  {"i2", TD_DT_INT16},   {"i4", TD_DT_INT32},
               {"i8", TD_DT_INT64}, {"u1", TD_DT_UINT8},   {"u2", TD_DT_UINT16},
               {"u4", TD_DT_UINT32}, {"u8", TD_DT_UINT64}, {"b1", TD_DT_BOOL}};
    /* '<' little-endian, '|' no byte order (one byte), '=' native: this
     * reader runs on little-endian hosts only (x86-64, aarch64). */
    int one_byte = d[0] && d[1] && d[2] == '1' && !d[3];
    if (!(d[0] == '<' || d[0] == '|' || d[0] == '=' || (d[0] == '>' && one_byte)))
        return -1;
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(d + 1, map[i].code))
            return map[i].dtype;
    return -1;
}

static int shape_lit(cur *c, npy_header *h)
{
    if (!eat(c, '('))
        return -1;
    h->ndim = 0;
    for (;;) {
        skip_ws(c);
        if (eat(c, ')'))
            return 0;
        if (h->ndim == MAX_RANK || c->p >= c->end || *c->p < '0' || *c->p > '9')
            return -1;
        int64_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                return -1;
            v = v * 10 + (*c->p++ - '0');
        }
        /* Python 2 era files may write 3L. */
        if (c->p < c->end && *c->p == 'L')
            c->p++;
        h->dims[h->ndim++] = v;
        if (!eat(c, ',')) {
            if (!eat(c, ')'))
                return -1;
            return 0;
        }
    }
}

static td_status parse_header(const char *text, size_t n, const char *label,
                              npy_header *h, td_err_t *err)
{
    cur c = {text, text + n};
    char key[32], val[32];
    memset(h, 0, sizeof *h);
    if (!eat(&c, '{'))
        goto bad;
    while (!eat(&c, '}')) {
        if (string_lit(&c, key, sizeof key) || !eat(&c, ':'))
            goto bad;
        if (!strcmp(key, "descr")) {
            if (string_lit(&c, val, sizeof val)) {
                return td_err_set(err, TD_EINPUT, "%s: .npy descr is not a "
                                  "plain type (structured arrays are not "
                                  "supported)", label);
            }
            h->have_descr = 1;
            if ((h->dtype = descr_dtype(val)) < 0)
                return td_err_set(err, TD_EINPUT, "%s: .npy element type '%s' "
                                  "is not supported (float16/32/64, int8..64, "
                                  "uint8..64, bool, little-endian)", label, val);
        } else if (!strcmp(key, "fortran_order")) {
            skip_ws(&c);
            if ((size_t)(c.end - c.p) >= 4 && !strncmp(c.p, "True", 4))
                h->fortran = 1, c.p += 4;
            else if ((size_t)(c.end - c.p) >= 5 && !strncmp(c.p, "False", 5))
                c.p += 5;
            else
                goto bad;
            h->have_fortran = 1;
        } else if (!strcmp(key, "shape")) {
            if (shape_lit(&c, h))
                goto bad;
            h->have_shape = 1;
        } else {
            goto bad;
        }
        if (!eat(&c, ',')) {
            if (!eat(&c, '}'))
                goto bad;
            break;
        }
    }
    if (!h->have_descr || !h->have_fortran || !h->have_shape)
        return td_err_set(err, TD_EINPUT, "%s: .npy header lacks %s", label,
                          !h->have_descr ? "'descr'" : !h->have_fortran
                                                           ? "'fortran_order'"
                                                           : "'shape'");
    if (h->fortran)
        return td_err_set(err, TD_EINPUT, "%s: .npy is in Fortran order; save "
                          "it in C order (numpy.ascontiguousarray)", label);
    return TD_OK;
bad:
    return td_err_set(err, TD_EINPUT, "%s: .npy header is not a valid "
                      "{'descr', 'fortran_order', 'shape'} dict near byte %zu",
                      label, (size_t)(c.p - text));
}

td_status td_npy_parse(const unsigned char *buf, size_t len,
                       const char *label, td_array *out, td_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (len < 8 || memcmp(buf, "\x93NUMPY", 6))
        return td_err_set(err, TD_EINPUT, "%s: not a .npy file (no \\x93NUMPY "
                          "magic)", label);
    unsigned major = buf[6];
    size_t hlen, start;
    if (major == 1) {
        if (len < 10)
            goto truncated;
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        start = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            goto truncated;
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
               (size_t)buf[11] << 24;
        start = 12;
    } else {
        return td_err_set(err, TD_EINPUT, "%s: .npy format version %u.%u is "
                          "not supported (1.0 to 3.0)", label, major, buf[7]);
    }
    if (hlen > len - start)
        goto truncated;
    npy_header h;
    td_status s = parse_header((const char *)buf + start, hlen, label, &h, err);
    if (s)
        return s;
    size_t data_at = start + hlen, have = len - data_at;
    if ((s = td_array_init(out, NULL, h.dtype, h.dims, h.ndim, label, err)))
        return s;
    if (have != out->nbytes) {
        char shape[128];
        td_array_shape_str(h.dims, h.ndim, shape, sizeof shape);
        s = td_err_set(err, TD_EINPUT, "%s: .npy data has %zu bytes but shape "
                       "%s of %s needs %zu", label, have, shape,
                       td_array_dtype_name(h.dtype), out->nbytes);
        td_array_clear(out);
        return s;
    }
    memcpy(out->data, buf + data_at, out->nbytes);
    if (h.dtype == TD_DT_BOOL)
        for (size_t i = 0; i < out->nbytes; i++)
            if (((unsigned char *)out->data)[i] > 1) {
                td_array_clear(out);
                return td_err_set(err, TD_EINPUT, "%s: .npy bool element %zu "
                                  "is neither 0 nor 1", label, i);
            }
    return TD_OK;
truncated:
    return td_err_set(err, TD_EINPUT, "%s: .npy header is truncated (%zu "
                      "bytes in the file)", label, len);
}

td_status td_npy_read(const char *path, td_array *out, td_err_t *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    td_status s = td_read_file(path, 0, &buf, &len, err);
    if (!s)
        s = td_npy_parse(buf, len, path, out, err);
    free(buf);
    return s;
}
