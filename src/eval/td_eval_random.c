/* Seeded random inputs, for smoke tests only: they say nothing about how a
 * model behaves on real data, and the report says so. */
#include <stdlib.h>
#include <string.h>

#include "eval/td_eval_internal.h"
#include "graph/td_tensor.h"

/* splitmix64: a small, well-mixed generator; one stream per sample. */
static uint64_t next(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *x)
{
    return (double)(next(x) >> 11) * (1.0 / 9007199254740992.0);
}

static td_status fill(td_array *a, uint64_t *st)
{
    size_t n = td_array_numel(a);
    unsigned char *p = a->data;
    for (size_t i = 0; i < n; i++) {
        double f = 2.0 * uniform(st) - 1.0;
        int64_t k = (int64_t)(next(st) % 10);
        switch (a->dtype) {
        case TD_DT_FLOAT: { float v = (float)f; memcpy(p + 4 * i, &v, 4); break; }
        case TD_DT_DOUBLE: memcpy(p + 8 * i, &f, 8); break;
        case TD_DT_FLOAT16: { uint16_t v = td_f32_to_f16((float)f); memcpy(p + 2 * i, &v, 2); break; }
        case TD_DT_BFLOAT16: { uint16_t v = td_f32_to_bf16((float)f); memcpy(p + 2 * i, &v, 2); break; }
        case TD_DT_BOOL: p[i] = (unsigned char)(k & 1); break;
        case TD_DT_UINT8: case TD_DT_INT8: p[i] = (unsigned char)k; break;
        case TD_DT_UINT16: case TD_DT_INT16: { int16_t v = (int16_t)k; memcpy(p + 2 * i, &v, 2); break; }
        case TD_DT_UINT32: case TD_DT_INT32: { int32_t v = (int32_t)k; memcpy(p + 4 * i, &v, 4); break; }
        default: memcpy(p + 8 * i, &k, 8); break;
        }
    }
    return TD_OK;
}

td_status td_eval_random_sample(const td_rt_session *s, uint64_t seed,
                                size_t index, const td_eval_dim *dims,
                                size_t n_dims, td_array **arrays,
                                td_err_t *err)
{
    size_t n = td_rt_n_inputs(s);
    td_array *a = calloc(n ? n : 1, sizeof *a);
    td_status st = TD_OK;
    uint64_t state = seed ^ (0x5851f42d4c957f2dull * (index + 1));
    if (!a)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !st; i++) {
        const td_rt_io *io = td_rt_input(s, i);
        int64_t shape[16];
        if (io->ndim > 16) {
            st = td_err_set(err, TD_EINPUT, "input '%s': rank %zu is too high "
                            "for random inputs", io->name, io->ndim);
            break;
        }
        for (size_t d = 0; d < io->ndim && !st; d++) {
            shape[d] = io->dims[d];
            if (shape[d] >= 0)
                continue;
            const char *dp = io->dim_names[d];
            size_t j = 0;
            while (j < n_dims && (!*dp || strcmp(dims[j].name, dp)))
                j++;
            if (j < n_dims)
                shape[d] = dims[j].value;
            else if (*dp)
                st = td_err_set(err, TD_EUSAGE, "input '%s': dim %zu is the "
                                "symbolic '%s'; random inputs need its value: "
                                "give it in options.dims", io->name, d, dp);
            else
                st = td_err_set(err, TD_EINPUT, "input '%s': dim %zu has no "
                                "size and no name, so random inputs cannot "
                                "be shaped; give real inputs", io->name, d);
        }
        if (!st)
            st = td_array_init(&a[i], io->name, io->dtype, shape, io->ndim,
                               io->name, err);
        if (!st)
            st = fill(&a[i], &state);
    }
    if (st) {
        td_array_free_n(a, n);
        return st;
    }
    *arrays = a;
    return TD_OK;
}
