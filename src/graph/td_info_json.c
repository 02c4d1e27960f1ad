/* Renders what td_info collected as one JSON object (schema in
 * td_info_render_json's comment). */
#include "td_info_internal.h"
#include "td_tensor.h"

static const char *info_str(const char *s) { return s ? s : ""; }

static void json_dims(td_buf *b, const int64_t *d, size_t n)
{
    td_json_open(b, '[');
    for (size_t k = 0; k < n; k++)
        if (d[k] >= 0)
            td_json_int(b, d[k]);
        else
            td_json_null(b);
    td_json_close(b, ']');
}

static void json_values(const td_info *in, td_buf *b,
                        Onnx__ValueInfoProto *const *v, size_t n,
                        int skip_inits)
{
    td_json_open(b, '[');
    for (size_t i = 0; i < n; i++) {
        int32_t dt;
        if (skip_inits && info_is_initializer(in->model->graph, v[i]->name))
            continue;
        const Onnx__TensorShapeProto *sh = info_vi_shape(v[i], &dt);
        td_json_open(b, '{');
        td_json_key(b, "name");
        td_json_str(b, info_str(v[i]->name));
        td_json_key(b, "dtype");
        if (dt)
            td_json_str(b, td_dtype_name(dt));
        else
            td_json_null(b);
        td_json_key(b, "shape");
        const int64_t *d;
        size_t r;
        if (sh) {
            td_json_open(b, '[');
            for (size_t k = 0; k < sh->n_dim; k++) {
                const Onnx__TensorShapeProto__Dimension *dm = sh->dim[k];
                if (dm->value_case ==
                    ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
                    td_json_int(b, dm->dim_value);
                else if (dm->value_case ==
                             ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                         dm->dim_param)
                    td_json_str(b, dm->dim_param);
                else
                    td_json_null(b);
            }
            td_json_close(b, ']');
        } else if (td_shape_get(in->shapes, v[i]->name, &d, &r)) {
            json_dims(b, d, r);
        } else {
            td_json_null(b);
        }
        td_json_close(b, '}');
    }
    td_json_close(b, ']');
}

static void json_num_or_null(td_buf *b, int64_t v)
{
    if (v >= 0)
        td_json_int(b, v);
    else
        td_json_null(b);
}

static void json_conv(td_buf *b, const info_conv *c)
{
    const td_conv_geom *g = &c->geo;
    td_json_open(b, '{');
    td_json_key(b, "name");
    td_json_str(b, c->name);
    td_json_key(b, "index");
    td_json_int(b, (int64_t)c->index);
    td_json_key(b, "op_type");
    td_json_str(b, c->op);
    td_json_key(b, "weight_shape");
    if (c->w_known)
        json_dims(b, c->w, c->w_rank);
    else
        td_json_null(b);
    td_json_key(b, "input_shape");
    if (c->x_known)
        json_dims(b, c->x, c->x_rank);
    else
        td_json_null(b);
    td_json_key(b, "output_spatial");
    if (c->geo_ok)
        json_dims(b, g->out_spatial, g->n_spatial);
    else
        td_json_null(b);
    const char *keys[] = {"kernel", "strides", "dilations", "pads"};
    const int64_t *vals[] = {g->kernel, g->strides, g->dilations, g->pads};
    for (int k = 0; k < 4; k++) {
        td_json_key(b, keys[k]);
        if (c->geo_ok)
            json_dims(b, vals[k], (k == 3 ? 2 : 1) * g->n_spatial);
        else
            td_json_null(b);
    }
    td_json_key(b, "group");
    json_num_or_null(b, c->geo_ok ? g->group : -1);
    td_json_key(b, "auto_pad");
    if (c->geo_ok)
        td_json_str(b, g->auto_pad);
    else
        td_json_null(b);
    td_json_key(b, "params");
    json_num_or_null(b, c->params);
    td_json_key(b, "macs");
    json_num_or_null(b, c->macs);
    td_json_close(b, '}');
}

/* Schema: {"path", "ir_version", "opsets": [{"domain", "version"}],
 * "producer": {"name", "version"}, "graph": {"name", "nodes"},
 * "inputs"/"outputs": [{"name", "dtype", "shape": [int|"sym"|null]}],
 * "ops": [{"op_type", "domain", "count"}] (count desc, then name),
 * "parameters": {"total", "bytes", "by_dtype": [{"dtype", "tensors",
 * "count", "bytes"}]}, "convs": [{"name", "index", "op_type",
 * "weight_shape", "input_shape", "output_spatial", "kernel", "strides",
 * "dilations", "pads", "group", "auto_pad", "params", "macs"}],
 * "conv_totals": {"params", "macs", "macs_unknown"}}. */
void td_info_render_json(const td_info *in, td_buf *b)
{
    const Onnx__ModelProto *m = in->model;
    const Onnx__GraphProto *g = m->graph;
    td_json_open(b, '{');
    td_json_key(b, "path");
    td_json_str(b, info_str(in->path));
    td_json_key(b, "ir_version");
    td_json_int(b, m->ir_version);
    td_json_key(b, "opsets");
    td_json_open(b, '[');
    for (size_t i = 0; i < m->n_opset_import; i++) {
        td_json_open(b, '{');
        td_json_key(b, "domain");
        td_json_str(b, info_str(m->opset_import[i]->domain));
        td_json_key(b, "version");
        td_json_int(b, m->opset_import[i]->version);
        td_json_close(b, '}');
    }
    td_json_close(b, ']');
    td_json_key(b, "producer");
    td_json_open(b, '{');
    td_json_key(b, "name");
    td_json_str(b, info_str(m->producer_name));
    td_json_key(b, "version");
    td_json_str(b, info_str(m->producer_version));
    td_json_close(b, '}');
    td_json_key(b, "graph");
    td_json_open(b, '{');
    td_json_key(b, "name");
    td_json_str(b, info_str(g->name));
    td_json_key(b, "nodes");
    td_json_int(b, (int64_t)in->n_nodes);
    td_json_close(b, '}');
    td_json_key(b, "inputs");
    json_values(in, b, g->input, g->n_input, 1);
    td_json_key(b, "outputs");
    json_values(in, b, g->output, g->n_output, 0);
    td_json_key(b, "ops");
    td_json_open(b, '[');
    for (size_t i = 0; i < in->n_ops; i++) {
        td_json_open(b, '{');
        td_json_key(b, "op_type");
        td_json_str(b, in->ops[i].op);
        td_json_key(b, "domain");
        td_json_str(b, in->ops[i].domain);
        td_json_key(b, "count");
        td_json_int(b, in->ops[i].count);
        td_json_close(b, '}');
    }
    td_json_close(b, ']');
    td_json_key(b, "parameters");
    td_json_open(b, '{');
    td_json_key(b, "total");
    td_json_int(b, in->params_total);
    td_json_key(b, "bytes");
    td_json_int(b, (int64_t)in->bytes_total);
    td_json_key(b, "by_dtype");
    td_json_open(b, '[');
    for (int d = 0; d < INFO_N_DTYPES; d++) {
        const info_dtype *x = &in->dtypes[d];
        if (!x->tensors)
            continue;
        td_json_open(b, '{');
        td_json_key(b, "dtype");
        td_json_str(b, d ? td_dtype_name(d) : "other");
        td_json_key(b, "tensors");
        td_json_int(b, x->tensors);
        td_json_key(b, "count");
        td_json_int(b, x->count);
        td_json_key(b, "bytes");
        td_json_int(b, (int64_t)x->bytes);
        td_json_close(b, '}');
    }
    td_json_close(b, ']');
    td_json_close(b, '}');
    td_json_key(b, "convs");
    td_json_open(b, '[');
    for (size_t i = 0; i < in->n_convs; i++)
        json_conv(b, &in->convs[i]);
    td_json_close(b, ']');
    td_json_key(b, "conv_totals");
    td_json_open(b, '{');
    td_json_key(b, "params");
    td_json_int(b, in->conv_params);
    td_json_key(b, "macs");
    td_json_int(b, in->conv_macs);
    td_json_key(b, "macs_unknown");
    td_json_int(b, (int64_t)in->conv_macs_unknown);
    td_json_close(b, '}');
    td_json_close(b, '}');
    td_buf_put(b, "\n", 1);
}
