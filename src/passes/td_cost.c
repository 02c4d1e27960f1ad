#include "td_cost.h"

#include "graph/td_tensor.h"

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

/* One Conv: channels, group, kernel elements, input and output pixels. */
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

/* Pixels of every sample in the batch: a batch of N costs N times the
 * compute and activation traffic but the per-node overhead once (PP-OCR
 * cls runs 32 crops at a time; counted per sample, its chains looked up
 * to 1.8x slower where ORT measured them 0.8-1.3x). */
static int64_t batched(const td_layer *l, int64_t px)
{
    return px < 0 ? px : px * (l->batch > 1 ? l->batch : 1);
}

double td_cost_layer_seconds(const td_layer *l)
{
    int64_t in = batched(l, td_layer_in_pixels(l));
    int64_t out = batched(l, td_layer_out_pixels(l));
    if (l->kind != TD_LAYER_CONV || in < 0 || out < 0)
        return -1;
    return conv_seconds(elem_size(l), l->cin, l->cout, l->group,
                        td_layer_kernel_size(l), in, out);
}

/* Pixels after the spatial convs of axes 0..s (-1: none yet, input). */
static int64_t px_after(const td_layer *l, int s)
{
    int64_t p = 1;
    for (int t = 0; t < l->nsp; t++)
        p *= t <= s ? l->out_sp[t] : l->in_sp[t];
    return p;
}

double td_cost_chain_seconds(const td_layer *l, td_method m, const int64_t *r)
{
    int64_t in = batched(l, td_layer_in_pixels(l));
    int64_t out = batched(l, td_layer_out_pixels(l));
    if (l->kind != TD_LAYER_CONV || in < 0 || out < 0)
        return -1;
    double e = elem_size(l);
    int64_t g = l->group, K = td_layer_kernel_size(l);
    switch (m) {
    case TD_TUCKER2:
        return conv_seconds(e, l->cin, g * r[1], g, 1, in, in) +
               conv_seconds(e, g * r[1], g * r[0], g, K, in, out) +
               conv_seconds(e, g * r[0], l->cout, g, 1, out, out);
    case TD_CP: {
        double t = conv_seconds(e, l->cin, g * r[0], g, 1, in, in) +
                   conv_seconds(e, g * r[0], l->cout, g, 1, out, out);
        for (int s = 0; s < l->nsp; s++)
            t += conv_seconds(e, g * r[0], g * r[0], g * r[0], l->k[s],
                              batched(l, px_after(l, s - 1)),
                              batched(l, px_after(l, s)));
        return t;
    }
    case TD_SVD:
        return conv_seconds(e, l->cin, g * r[0], g, 1, in, out) +
               conv_seconds(e, g * r[0], l->cout, g, 1, out, out);
    default:
        return -1;
    }
}
