#include "td_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

/* One message being scanned. The scan never recurses: nested messages are
 * frames on an explicit stack whose height is the nesting depth. */
struct frame {
    const ProtobufCMessageDescriptor *desc;
    const ProtobufCFieldDescriptor *via;  /* field of the parent, for messages */
    size_t pos, end;                      /* input offsets */
    size_t prefix_at;                     /* output offset of the reserved length */
    int hollow_ok;                        /* TensorProto with one raw_data field */
};

struct out {
    uint8_t *buf;
    size_t len, cap;
    int on;  /* only hollowing produces output */
};

enum { PREFIX_RESERVE = 10 };
#define HOLLOW_CONFLICT ((td_status)100)

static int out_reserve(struct out *o, size_t n)
{
    if (o->cap - o->len >= n)
        return 0;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap - o->len < n) {
        if (td_mul_size(cap, 2, &cap))
            return -1;
    }
    uint8_t *b = realloc(o->buf, cap);
    if (!b)
        return -1;
    o->buf = b;
    o->cap = cap;
    return 0;
}

static int out_put(struct out *o, const void *p, size_t n)
{
    if (!o->on || n == 0)
        return 0;
    if (out_reserve(o, n))
        return -1;
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return 0;
}

static size_t varint_encode(uint64_t v, uint8_t *p)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static int out_varint(struct out *o, uint64_t v)
{
    uint8_t tmp[10];
    return out_put(o, tmp, varint_encode(v, tmp));
}

/* Returns the bytes used, 0 when malformed or truncated. */
static size_t varint_decode(const uint8_t *p, size_t avail, uint64_t *v)
{
    uint64_t r = 0;
    for (size_t i = 0; i < avail && i < 10; i++) {
        if (i == 9 && p[i] > 1)
            return 0;
        r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = r;
            return i + 1;
        }
    }
    return 0;
}

int td_wire_marker_decode(const uint8_t *data, size_t len, uint64_t *offset,
                          uint64_t *length)
{
    /* protobuf-c keeps a length-delimited unknown field with its length
     * prefix (here the single byte 16) in front of the payload. */
    if (len == 17 && data[0] == 16) {
        data++;
        len--;
    }
    if (len != 16)
        return -1;
    uint64_t a = 0, b = 0;
    for (int i = 7; i >= 0; i--) {
        a = (a << 8) | data[i];
        b = (b << 8) | data[8 + i];
    }
    *offset = a;
    *length = b;
    return 0;
}

static size_t scalar_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM: return 4;
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    default: return 8;
    }
}

/* Field path for messages: "GraphProto.node > NodeProto.attribute > ...";
 * deep paths keep their first and last three steps. */
static void path_of(const struct frame *st, int top, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 1; i <= top && n < cap; i++) {
        int w;
        if (top > 8 && i == 4) {
            w = snprintf(buf + n, cap - n, " > ... (%d levels) ...", top - 6);
            i = top - 3;
        } else {
            w = snprintf(buf + n, cap - n, "%s%s.%s", i > 1 ? " > " : "",
                         st[i - 1].desc->short_name, st[i].via->name);
        }
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

/* Looks at a TensorProto's own fields (not nested ones) before it is copied:
 * how many raw_data fields it has, and whether the file already uses the
 * marker field number, in which case hollowing would be ambiguous. */
static td_status tensor_prescan(const uint8_t *buf, size_t pos, size_t end,
                                int *n_raw)
{
    *n_raw = 0;
    while (pos < end) {
        uint64_t tag, v;
        size_t k = varint_decode(buf + pos, end - pos, &tag);
        if (!k)
            return TD_OK;  /* the main scan reports it */
        pos += k;
        if ((tag >> 3) == TD_WIRE_MARKER_FIELD)
            return HOLLOW_CONFLICT;
        switch (tag & 7) {
        case 0:
            k = varint_decode(buf + pos, end - pos, &v);
            if (!k)
                return TD_OK;
            pos += k;
            break;
        case 1: pos += 8; break;
        case 5: pos += 4; break;
        case 2:
            k = varint_decode(buf + pos, end - pos, &v);
            if (!k || v > end - pos - k)
                return TD_OK;
            if ((tag >> 3) == 9)
                (*n_raw)++;
            pos += k + v;
            break;
        default: return TD_OK;
        }
    }
    return TD_OK;
}

static td_status scan(const uint8_t *buf, size_t len,
                      const ProtobufCMessageDescriptor *root,
                      const td_wire_opts *opts, struct frame *st,
                      struct out *o, td_wire_result *res, td_err_t *err)
{
    int top = 0;
    char path[512];
    size_t est = root->sizeof_message;
    st[0] = (struct frame){root, NULL, 0, len, SIZE_MAX, 0};
    res->max_depth_seen = 1;

#define FAIL(...)                                                              \
    do {                                                                       \
        path_of(st, top, path, sizeof path);                                   \
        char what_[256];                                                       \
        snprintf(what_, sizeof what_, __VA_ARGS__);                            \
        return td_err_set(err, TD_EINPUT, "byte %zu%s%s: %s", field_at,        \
                          path[0] ? " in " : "", path, what_);                 \
    } while (0)

    while (top >= 0) {
        struct frame *f = &st[top];
        size_t field_at = f->pos;
        if (f->pos == f->end) {
            if (o->on && f->prefix_at != SIZE_MAX) {
                /* The length is known only now: write it into the reserved
                 * gap and close the gap. */
                size_t body = f->prefix_at + PREFIX_RESERVE;
                size_t n = o->len - body;
                uint8_t tmp[10];
                size_t k = varint_encode(n, tmp);
                memmove(o->buf + f->prefix_at + k, o->buf + body, n);
                memcpy(o->buf + f->prefix_at, tmp, k);
                o->len -= PREFIX_RESERVE - k;
            }
            top--;
            continue;
        }
        uint64_t tag, v;
        size_t k = varint_decode(buf + f->pos, f->end - f->pos, &tag);
        if (!k)
            FAIL("truncated or malformed field tag");
        uint64_t number = tag >> 3;
        unsigned wt = (unsigned)(tag & 7);
        if (number == 0 || number > TD_WIRE_MARKER_FIELD)
            FAIL("invalid field number %llu", (unsigned long long)number);
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field(f->desc, (unsigned)number);
        size_t start = f->pos;
        f->pos += k;
        size_t avail = f->end - f->pos;
        switch (wt) {
        case 0:
            k = varint_decode(buf + f->pos, avail, &v);
            if (!k)
                FAIL("truncated varint in field %llu", (unsigned long long)number);
            f->pos += k;
            est += fd ? scalar_size(fd->type) : 24 + k;
            if (out_put(o, buf + start, f->pos - start))
                return td_err_set(err, TD_ENOMEM, "out of memory");
            continue;
        case 1:
        case 5: {
            size_t n = wt == 1 ? 8 : 4;
            if (avail < n)
                FAIL("truncated fixed-size field %llu", (unsigned long long)number);
            f->pos += n;
            est += fd ? scalar_size(fd->type) : 24 + n;
            if (out_put(o, buf + start, f->pos - start))
                return td_err_set(err, TD_ENOMEM, "out of memory");
            continue;
        }
        case 2:
            break;
        default:
            FAIL("wire type %u (groups or invalid) in field %llu is not supported",
                 wt, (unsigned long long)number);
        }
        k = varint_decode(buf + f->pos, avail, &v);
        if (!k)
            FAIL("malformed length of field %llu", (unsigned long long)number);
        if (v > avail - k)
            FAIL("field %llu claims %llu bytes but only %zu remain",
                 (unsigned long long)number, (unsigned long long)v, avail - k);
        size_t plen = (size_t)v, pstart = f->pos + k;
        f->pos = pstart + plen;

        if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE) {
            if (top + 1 >= opts->max_depth) {
                top++;
                st[top].desc = fd->descriptor;
                st[top].via = fd;
                FAIL("messages nested deeper than %d levels", opts->max_depth);
            }
            const ProtobufCMessageDescriptor *cd = fd->descriptor;
            est += cd->sizeof_message + sizeof(void *);
            int hollow_ok = 0;
            if (o->on && cd == &onnx__tensor_proto__descriptor) {
                int n_raw;
                if (tensor_prescan(buf, pstart, pstart + plen, &n_raw) ==
                    HOLLOW_CONFLICT)
                    return HOLLOW_CONFLICT;
                hollow_ok = n_raw == 1;
            }
            /* Copy the tag; the length is rewritten when the frame ends. */
            if (out_put(o, buf + start, pstart - k - start) ||
                (o->on && out_reserve(o, PREFIX_RESERVE)))
                return td_err_set(err, TD_ENOMEM, "out of memory");
            top++;
            st[top] = (struct frame){cd, fd, pstart, pstart + plen,
                                     o->on ? o->len : SIZE_MAX, hollow_ok};
            if (o->on)
                o->len += PREFIX_RESERVE;
            if (top + 1 > res->max_depth_seen)
                res->max_depth_seen = top + 1;
            continue;
        }
        if (f->desc == &onnx__tensor_proto__descriptor && number == 9 &&
            o->on && f->hollow_ok && plen >= opts->hollow_min) {
            uint8_t m[16];
            for (int i = 0; i < 8; i++) {
                m[i] = (uint8_t)((uint64_t)pstart >> (8 * i));
                m[8 + i] = (uint8_t)((uint64_t)plen >> (8 * i));
            }
            if (out_varint(o, ((uint64_t)TD_WIRE_MARKER_FIELD << 3) | 2) ||
                out_varint(o, 16) || out_put(o, m, 16))
                return td_err_set(err, TD_ENOMEM, "out of memory");
            res->n_hollowed++;
            est += 64;
            continue;
        }
        if (fd && fd->type == PROTOBUF_C_TYPE_STRING &&
            memchr(buf + pstart, 0, plen))
            FAIL("string field %s.%s contains a NUL byte", f->desc->short_name,
                 fd->name);
        if (fd && fd->label == PROTOBUF_C_LABEL_REPEATED &&
            fd->type != PROTOBUF_C_TYPE_STRING &&
            fd->type != PROTOBUF_C_TYPE_BYTES) {
            /* Packed scalars: at worst one element per byte. */
            size_t add;
            if (td_mul_size(plen, scalar_size(fd->type), &add) ||
                td_add_size(est, add, &est))
                est = SIZE_MAX;
        } else {
            size_t add = plen + (fd ? 1 + scalar_size(fd->type) : 24);
            if (td_add_size(est, add, &est))
                est = SIZE_MAX;
        }
        if (out_put(o, buf + start, f->pos - start))
            return td_err_set(err, TD_ENOMEM, "out of memory");
    }
#undef FAIL
    res->est_bytes = est;
    if (opts->mem_limit && est > opts->mem_limit)
        return td_err_set(err, TD_ENOMEM,
                          "unpacking would need about %zu bytes, more than "
                          "the limit of %zu bytes",
                          est, opts->mem_limit);
    return TD_OK;
}

td_status td_wire_prepare(const uint8_t *buf, size_t len,
                          const ProtobufCMessageDescriptor *desc,
                          const td_wire_opts *opts, td_wire_result *result,
                          td_err_t *err)
{
    memset(result, 0, sizeof *result);
    if (opts->max_depth < 1)
        return td_err_set(err, TD_EUSAGE, "max_depth must be at least 1");
    struct frame *st = calloc((size_t)opts->max_depth + 1, sizeof *st);
    if (!st)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    struct out o = {NULL, 0, 0, opts->hollow_min > 0};
    td_status s = scan(buf, len, desc, opts, st, &o, result, err);
    if (s == HOLLOW_CONFLICT) {
        /* The file uses our marker number itself: load it without hollowing. */
        free(o.buf);
        o = (struct out){NULL, 0, 0, 0};
        memset(result, 0, sizeof *result);
        s = scan(buf, len, desc, opts, st, &o, result, err);
    }
    free(st);
    if (s != TD_OK || result->n_hollowed == 0) {
        free(o.buf);
        return s;
    }
    result->compact = o.buf;
    result->compact_len = o.len;
    return TD_OK;
}
