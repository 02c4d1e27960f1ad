/* Renders what td_info collected as an aligned text report (the JSON
 * form is in td_info_json.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_info_internal.h"
#include "td_tensor.h"

/* ---- a text table with aligned columns ---- */

enum { CELL = 112, MAX_COLS = 12 };

typedef struct table {
    size_t cols, rows, cap;
    char (*cell)[CELL];
    unsigned right;  /* bit c: right-align column c (numbers) */
    int oom;
} table;

static char *table_row(table *t)
{
    if (t->oom)
        return NULL;
    if (t->rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16, bytes;
        if (td_mul_size(cap, t->cols * CELL, &bytes)) {
            t->oom = 1;
            return NULL;
        }
        void *p = realloc(t->cell, bytes);
        if (!p) {
            t->oom = 1;
            return NULL;
        }
        t->cell = p;
        t->cap = cap;
    }
    memset(t->cell[t->rows * t->cols], 0, t->cols * CELL);
    t->rows++;
    return t->cell[(t->rows - 1) * t->cols];
}

static void set(table *t, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set(table *t, size_t col, const char *fmt, ...)
{
    if (t->oom || !t->rows)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->cell[(t->rows - 1) * t->cols + col], CELL, fmt, ap);
    va_end(ap);
}

static void table_print(table *t, td_buf *b)
{
    size_t w[MAX_COLS] = {0};
    if (t->oom) {
        b->oom = 1;
        goto done;
    }
    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c < t->cols; c++) {
            size_t n = strlen(t->cell[r * t->cols + c]);
            if (n > w[c])
                w[c] = n;
        }
    for (size_t r = 0; r < t->rows; r++) {
        td_buf_put(b, " ", 1);
        for (size_t c = 0; c < t->cols; c++) {
            const char *s = t->cell[r * t->cols + c];
            int right = (t->right >> c) & 1;
            int last = c + 1 == t->cols;
            if (right)
                td_buf_printf(b, " %*s", (int)w[c], s);
            else if (last)
                td_buf_printf(b, " %s", s);  /* no trailing blanks */
            else
                td_buf_printf(b, " %-*s", (int)w[c], s);
        }
        td_buf_put(b, "\n", 1);
    }
done:
    free(t->cell);
    memset(t, 0, sizeof *t);
}

/* ---- values ---- */

const Onnx__TensorShapeProto *info_vi_shape(const Onnx__ValueInfoProto *v,
                                              int32_t *dtype)
{
    *dtype = 0;
    if (!v->type || v->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
        !v->type->tensor_type)
        return NULL;
    *dtype = v->type->tensor_type->elem_type;
    return v->type->tensor_type->shape;
}

static void dims_text(char *out, size_t cap, const int64_t *d, size_t n)
{
    size_t at = 0;
    at += (size_t)snprintf(out, cap, "[");
    for (size_t k = 0; k < n && at < cap; k++) {
        if (d[k] >= 0)
            at += (size_t)snprintf(out + at, cap - at, "%s%lld", k ? ", " : "",
                                   (long long)d[k]);
        else
            at += (size_t)snprintf(out + at, cap - at, "%s?", k ? ", " : "");
    }
    if (at < cap)
        snprintf(out + at, cap - at, "]");
}

/* A declared shape with its symbolic names; the inferred shape when the
 * declaration has none (outputs of models saved without shapes). */
static void value_shape_text(const td_info *in, const Onnx__ValueInfoProto *v,
                             char *out, size_t cap)
{
    int32_t dt;
    const Onnx__TensorShapeProto *sh = info_vi_shape(v, &dt);
    const int64_t *d;
    size_t n;
    if (!sh) {
        if (td_shape_get(in->shapes, v->name, &d, &n))
            dims_text(out, cap, d, n);
        else
            snprintf(out, cap, "?");
        return;
    }
    size_t at = (size_t)snprintf(out, cap, "[");
    for (size_t k = 0; k < sh->n_dim && at < cap; k++) {
        const Onnx__TensorShapeProto__Dimension *dm = sh->dim[k];
        const char *sep = k ? ", " : "";
        if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
            at += (size_t)snprintf(out + at, cap - at, "%s%lld", sep,
                                   (long long)dm->dim_value);
        else if (dm->value_case ==
                 ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
            at += (size_t)snprintf(out + at, cap - at, "%s%s", sep,
                                   dm->dim_param ? dm->dim_param : "?");
        else
            at += (size_t)snprintf(out + at, cap - at, "%s?", sep);
    }
    if (at < cap)
        snprintf(out + at, cap - at, "]");
}

int info_is_initializer(const Onnx__GraphProto *g, const char *name)
{
    for (size_t i = 0; name && i < g->n_initializer; i++)
        if (g->initializer[i]->name && !strcmp(g->initializer[i]->name, name))
            return 1;
    return 0;
}

static const char *str(const char *s) { return s ? s : ""; }

static const char *domain_name(const char *d)
{
    return d && d[0] ? d : "ai.onnx";
}

static void num_text(char *out, size_t cap, int64_t v)
{
    if (v < 0)
        snprintf(out, cap, "?");
    else
        snprintf(out, cap, "%lld", (long long)v);
}

/* ---- text ---- */

static void values_text(const td_info *in, td_buf *b, const char *title,
                        Onnx__ValueInfoProto *const *v, size_t n,
                        int skip_inits)
{
    table t = {.cols = 3};
    char shape[CELL];
    td_buf_printf(b, "\n%s\n", title);
    for (size_t i = 0; i < n; i++) {
        int32_t dt;
        if (skip_inits && info_is_initializer(in->model->graph, v[i]->name))
            continue;
        info_vi_shape(v[i], &dt);
        value_shape_text(in, v[i], shape, sizeof shape);
        if (!table_row(&t))
            break;
        set(&t, 0, "%s", str(v[i]->name));
        set(&t, 1, "%s", dt ? td_dtype_name(dt) : "?");
        set(&t, 2, "%s", shape);
    }
    table_print(&t, b);
}

static void convs_text(const td_info *in, td_buf *b)
{
    table t = {.cols = 10, .right = 3u << 8};
    td_buf_printf(b, "\nconvolutions (%zu)\n", in->n_convs);
    if (!in->n_convs)
        return;
    table_row(&t);
    const char *head[] = {"name", "op", "weight", "group", "kernel",
                          "strides", "dilations", "pads", "params", "MACs"};
    for (size_t c = 0; c < 10; c++)
        set(&t, c, "%s", head[c]);
    for (size_t i = 0; i < in->n_convs; i++) {
        const info_conv *c = &in->convs[i];
        const td_conv_geom *g = &c->geo;
        char cell[CELL];
        if (!table_row(&t))
            break;
        if (c->name[0])
            set(&t, 0, "%s", c->name);
        else
            set(&t, 0, "#%zu", c->index);
        set(&t, 1, "%s", c->op);
        if (c->w_known)
            dims_text(cell, sizeof cell, c->w, c->w_rank);
        set(&t, 2, "%s", c->w_known ? cell : "?");
        if (c->geo_ok) {
            set(&t, 3, "%lld", (long long)g->group);
            dims_text(cell, sizeof cell, g->kernel, g->n_spatial);
            set(&t, 4, "%s", cell);
            dims_text(cell, sizeof cell, g->strides, g->n_spatial);
            set(&t, 5, "%s", cell);
            dims_text(cell, sizeof cell, g->dilations, g->n_spatial);
            set(&t, 6, "%s", cell);
            dims_text(cell, sizeof cell, g->pads, 2 * g->n_spatial);
            set(&t, 7, "%s", cell);
        }
        num_text(cell, sizeof cell, c->params);
        set(&t, 8, "%s", cell);
        num_text(cell, sizeof cell, c->macs);
        set(&t, 9, "%s", cell);
    }
    if (table_row(&t)) {
        set(&t, 0, "total");
        set(&t, 8, "%lld", (long long)in->conv_params);
        if (in->conv_macs_unknown)
            set(&t, 9, "%lld (+%zu unknown)", (long long)in->conv_macs,
                in->conv_macs_unknown);
        else
            set(&t, 9, "%lld", (long long)in->conv_macs);
    }
    table_print(&t, b);
}

void td_info_render_text(const td_info *in, td_buf *b)
{
    const Onnx__ModelProto *m = in->model;
    const Onnx__GraphProto *g = m->graph;
    table t = {.cols = 2};
    td_buf_printf(b, "model %s\n", str(in->path));
    table_row(&t);
    set(&t, 0, "ir_version");
    set(&t, 1, "%lld", (long long)m->ir_version);
    table_row(&t);
    set(&t, 0, "opsets");
    char cell[CELL] = "";
    size_t at = 0;
    for (size_t i = 0; i < m->n_opset_import && at < sizeof cell; i++)
        at += (size_t)snprintf(cell + at, sizeof cell - at, "%s%s %lld",
                               i ? ", " : "",
                               domain_name(m->opset_import[i]->domain),
                               (long long)m->opset_import[i]->version);
    set(&t, 1, "%s", cell);
    table_row(&t);
    set(&t, 0, "producer");
    set(&t, 1, "%s %s", str(m->producer_name), str(m->producer_version));
    table_row(&t);
    set(&t, 0, "graph");
    set(&t, 1, "%s (%zu nodes)", str(g->name), in->n_nodes);
    table_print(&t, b);

    values_text(in, b, "inputs", g->input, g->n_input, 1);
    values_text(in, b, "outputs", g->output, g->n_output, 0);

    t = (table){.cols = 2, .right = 2};
    td_buf_printf(b, "\nops\n");
    for (size_t i = 0; i < in->n_ops && table_row(&t); i++) {
        if (in->ops[i].domain[0])
            set(&t, 0, "%s:%s", in->ops[i].domain, in->ops[i].op);
        else
            set(&t, 0, "%s", in->ops[i].op);
        set(&t, 1, "%lld", (long long)in->ops[i].count);
    }
    table_print(&t, b);

    t = (table){.cols = 4, .right = 14};
    td_buf_printf(b, "\nparameters\n");
    table_row(&t);
    set(&t, 0, "dtype");
    set(&t, 1, "tensors");
    set(&t, 2, "elements");
    set(&t, 3, "bytes");
    int64_t tensors = 0;
    for (int d = 0; d < INFO_N_DTYPES; d++) {
        const info_dtype *x = &in->dtypes[d];
        if (!x->tensors || !table_row(&t))
            continue;
        tensors += x->tensors;
        set(&t, 0, "%s", d ? td_dtype_name(d) : "other");
        set(&t, 1, "%lld", (long long)x->tensors);
        set(&t, 2, "%lld", (long long)x->count);
        set(&t, 3, "%llu", (unsigned long long)x->bytes);
    }
    table_row(&t);
    set(&t, 0, "total");
    set(&t, 1, "%lld", (long long)tensors);
    set(&t, 2, "%lld", (long long)in->params_total);
    set(&t, 3, "%llu", (unsigned long long)in->bytes_total);
    table_print(&t, b);

    convs_text(in, b);
}
