#include "td_cost.h"

#include "graph/td_tensor.h"
#include "td_method.h"

/* Effective single-thread rates fitted on convs timed in ONNX Runtime
 * (bench/cost_check.sh): dense convs reach ~40 GMAC/s when the GEMM they
 * become has enough rows and depth, and much less when channels are few
 * (a 32->19 1x1 conv at 256x256 ran at 4 GMAC/s); depthwise convs run
 * near 3 GMAC/s; every node costs ~25 us. */
#define DENSE_MACS_PER_S 4e10
#define DENSE_FULL_COUT 48.0  /* output channels per group for full speed */
#define DENSE_FULL_DEPTH 96.0 /* Cin_g x kernel for full speed */
#define DW_MACS_PER_S 3e9
#define BYTES_PER_S 1.2e10
#define NODE_SECONDS 25e-6

static double conv_seconds(double esz, int64_t cin, int64_t cout, int64_t g,
                           int64_t k, int64_t in_px, int64_t out_px)
{
    double macs = (double)out_px * (double)cout * (double)(cin / g) * (double)k;
    double bytes = esz * ((double)in_px * (double)cin + (double)out_px * (double)cout +
                          (double)cout * (double)(cin / g) * (double)k);
    int depthwise = g == cin && g == cout && g > 1;
    double eff = 1;
    if (!depthwise) {
        double a = (double)(cout / g) / DENSE_FULL_COUT;
        double b = (double)(cin / g) * (double)k / DENSE_FULL_DEPTH;
        eff = (a < 1 ? a : 1) * (b < 1 ? b : 1);
    }
    double c = macs / (depthwise ? DW_MACS_PER_S : DENSE_MACS_PER_S * eff);
    double m = bytes / BYTES_PER_S;
    return (c > m ? c : m) + NODE_SECONDS;
}

static double elem_size(const td_layer *l)
{
    return l->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 ? 2 : 4;
}

double td_cost_conv_seconds(const td_layer *l, int64_t cin, int64_t cout,
                            int64_t g, int64_t k, int64_t in_px, int64_t out_px)
{
    return conv_seconds(elem_size(l), cin, cout, g, k, in_px, out_px);
}

/* Pixels of every sample in the batch: a batch of N costs N times the
 * compute and activation traffic but the per-node overhead once (PP-OCR
 * cls runs 32 crops at a time, and per sample the overhead would dominate
 * its small chains). */
int64_t td_cost_batched(const td_layer *l, int64_t px)
{
    return px < 0 ? px : px * (l->batch > 1 ? l->batch : 1);
}

/* Gemm / MatMul: a product of rows x K by K x N, the shape of a 1x1 conv
 * over `rows` pixels; MLAS runs both through the same SGEMM. */
int64_t td_cost_rows(const td_layer *l)
{
    return l->batch > 1 ? l->batch : 1;
}

double td_cost_layer_seconds(const td_layer *l)
{
    if (l->kind != TD_LAYER_CONV) {
        int64_t rows = td_cost_rows(l);
        return conv_seconds(elem_size(l), l->cin, l->cout, 1, 1, rows, rows);
    }
    int64_t in = td_cost_batched(l, td_layer_in_pixels(l));
    int64_t out = td_cost_batched(l, td_layer_out_pixels(l));
    if (in < 0 || out < 0)
        return -1;
    return conv_seconds(elem_size(l), l->cin, l->cout, l->group,
                        td_layer_kernel_size(l), in, out);
}

int td_cost_pixels(const td_layer *l, int64_t *in, int64_t *out)
{
    *in = td_cost_batched(l, td_layer_in_pixels(l));
    *out = td_cost_batched(l, td_layer_out_pixels(l));
    return l->kind == TD_LAYER_CONV && *in >= 0 && *out >= 0;
}

double td_cost_chain_seconds(const td_layer *l, td_method m, const int64_t *r)
{
    const td_method_ops *ops = td_method_get(m);
    return ops ? ops->seconds(l, r) : -1;
}
