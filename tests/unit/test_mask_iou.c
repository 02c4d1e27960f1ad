/* The mask IoU of probability maps (eval/td_eval_acc.c), against counts
 * done here by hand:
 * - per sample, the maps binarised at > t, IoU = |A and B| / |A or B|;
 *   the lowest and the mean over samples;
 * - a sample whose union covers less than TD_EVAL_IOU_MIN_UNION of the
 *   map (a photo of no foreground, where one pixel flips IoU from 1 to 0)
 *   is left out and counted; with only such samples, the pooled IoU;
 * - a map of a single value per sample: the IoU over samples;
 * - an output of several channels (or images): one map each, channels on
 *   axis 1 (NCHW) or on the last axis when it is shorter (NHWC), so a
 *   background channel nearly all on does not hide a lost foreground;
 * - no map: a reference value outside [0, 1] by more than rounding (a
 *   saturated sigmoid's 1 + an ulp is a map's), class scores, an integer
 *   output, or no threshold set. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "eval/td_eval_internal.h"
#include "tcheck.h"

#define N 1000   /* elements per map: 1 % is 10 */

static int64_t dims[4] = {1, 1, 10, 100};

static td_array map_of(float *v)
{
    td_array a = {.dtype = TD_DT_FLOAT, .ndim = 4, .dims = dims, .data = v,
                  .nbytes = N * sizeof(float)};
    return a;
}

/* Sets v[lo..hi) to `on` and the rest to 0.1. */
static void fill(float *v, int lo, int hi, float on)
{
    for (int i = 0; i < N; i++)
        v[i] = i >= lo && i < hi ? on : 0.1f;
}

static td_eval_acc fresh(double t)
{
    td_eval_acc m;
    memset(&m, 0, sizeof m);
    m.iou_t = t;
    return m;
}

static void check_counts(void)
{
    static float a[N], b[N];
    double lo, mean;
    size_t empty;
    /* sample 1: A on [0, 200), B on [50, 250): 150 / 250 */
    td_eval_acc m = fresh(0.5);
    fill(a, 0, 200, 0.9f);
    fill(b, 50, 250, 0.6f);
    td_array x = map_of(a), y = map_of(b);
    td_eval_acc_add(&m, &x, &y, -1, 0);
    /* sample 2: A on [0, 100), B on [0, 80): 80 / 100 */
    fill(a, 0, 100, 0.9f);
    fill(b, 0, 80, 0.9f);
    td_eval_acc_add(&m, &x, &y, -1, 0);
    CHECK(td_eval_mask_iou(&m, &lo, &mean, &empty));
    CHECK_MSG(fabs(lo - 0.6) < 1e-12, "lowest %.12g", lo);
    CHECK_MSG(fabs(mean - 0.7) < 1e-12, "mean %.12g", mean);
    CHECK(empty == 0);

    /* sample 3: nearly empty, A on 3 pixels, B on 5 others (IoU 0, union
     * 8 < 10): left out and counted */
    fill(a, 0, 3, 0.9f);
    fill(b, 3, 8, 0.9f);
    td_eval_acc_add(&m, &x, &y, -1, 0);
    CHECK(td_eval_mask_iou(&m, &lo, &mean, &empty));
    CHECK(fabs(lo - 0.6) < 1e-12 && fabs(mean - 0.7) < 1e-12 && empty == 1);

    /* a union of exactly 1 % counts: A on 10, B on 5 of them (5 / 10) */
    fill(a, 0, 10, 0.9f);
    fill(b, 5, 10, 0.9f);
    td_eval_acc_add(&m, &x, &y, -1, 0);
    CHECK(td_eval_mask_iou(&m, &lo, &mean, &empty));
    CHECK_MSG(fabs(lo - 0.5) < 1e-12 && fabs(mean - 1.9 / 3) < 1e-12,
              "lowest %.12g mean %.12g", lo, mean);
    CHECK(empty == 1);

    /* only nearly empty samples: the pooled IoU, (2 + 0) / (4 + 3) */
    m = fresh(0.5);
    fill(a, 0, 3, 0.9f);
    fill(b, 1, 4, 0.9f);   /* 2 of a union of 4 */
    td_eval_acc_add(&m, &x, &y, -1, 0);
    fill(a, 0, 0, 0.9f);
    fill(b, 0, 3, 0.9f);   /* 0 of 3 */
    td_eval_acc_add(&m, &x, &y, -1, 0);
    CHECK(td_eval_mask_iou(&m, &lo, &mean, &empty));
    CHECK_MSG(fabs(lo - 2.0 / 7) < 1e-12 && lo == mean && empty == 2,
              "pooled %.12g %.12g, %zu empty", lo, mean, empty);
    /* nothing on anywhere: 1 */
    m = fresh(0.5);
    fill(a, 0, 0, 0.9f);
    td_array z = map_of(a);
    td_eval_acc_add(&m, &z, &z, -1, 0);
    CHECK(td_eval_mask_iou(&m, &lo, &mean, &empty) && lo == 1 && mean == 1);

    /* the threshold decides: at 0.7, B's 0.6 is off */
    m = fresh(0.7);
    fill(a, 0, 200, 0.9f);
    fill(b, 0, 200, 0.6f);
    td_eval_acc_add(&m, &x, &y, -1, 0);
    CHECK(td_eval_mask_iou(&m, &lo, &mean, &empty) && lo == 0);
}

/* One probability per sample (a voice detector's per chunk): judged by
 * the IoU of the decisions over all samples, 2 / 3 here. */
static void check_small_map(void)
{
    static const float pa[4] = {0.9f, 0.9f, 0.1f, 0.8f};
    static const float pb[4] = {0.7f, 0.2f, 0.3f, 0.6f};
    int64_t d1[2] = {1, 1};
    td_eval_acc m = fresh(0.5);
    for (int i = 0; i < 4; i++) {
        td_array x = {.dtype = TD_DT_FLOAT, .ndim = 2, .dims = d1,
                      .data = (void *)&pa[i], .nbytes = sizeof(float)};
        td_array y = x;
        y.data = (void *)&pb[i];
        td_eval_acc_add(&m, &x, &y, -1, 0);
    }
    double lo, mean;
    size_t empty;
    CHECK(td_eval_mask_iou(&m, &lo, &mean, &empty));
    CHECK_MSG(fabs(lo - 2.0 / 3) < 1e-12 && lo == mean && empty == 0,
              "small map: %.12g %.12g %zu", lo, mean, empty);
}

/* A two-class softmax map, background beside foreground: the foreground on
 * [0, 200) of 1000 in A, on [0, 100) in B. Pooled, the IoU would be 900 /
 * 1100; per channel, the background's 800 / 900 and the foreground's 100 /
 * 200: lowest 0.5. */
static void check_channels(void)
{
    enum { HW = 1000 };
    static float a[2 * HW], b[2 * HW], an[2 * HW], bn[2 * HW];
    for (int i = 0; i < HW; i++) {
        int fa = i < 200, fb = i < 100;
        a[HW + i] = fa ? 0.9f : 0.1f, a[i] = 1 - a[HW + i];
        b[HW + i] = fb ? 0.8f : 0.2f, b[i] = 1 - b[HW + i];
        for (int c = 0; c < 2; c++)  /* the same maps, channels last */
            an[2 * i + c] = a[c * HW + i], bn[2 * i + c] = b[c * HW + i];
    }
    double lo, mean;
    size_t empty;
    int64_t nchw[4] = {1, 2, 10, 100}, nhwc[4] = {1, 10, 100, 2};
    td_array x = {.dtype = TD_DT_FLOAT, .ndim = 4, .dims = nchw, .data = a,
                  .nbytes = sizeof a};
    td_array y = x;
    y.data = b;
    td_eval_acc m = fresh(0.5);
    td_eval_acc_add(&m, &x, &y, -1, 0);
    CHECK(td_eval_mask_iou(&m, &lo, &mean, &empty));
    CHECK_MSG(fabs(lo - 0.5) < 1e-12 && fabs(mean - (0.5 + 8.0 / 9) / 2) < 1e-12
              && empty == 0, "NCHW: lowest %.12g mean %.12g", lo, mean);
    x.dims = y.dims = nhwc;
    x.data = an, y.data = bn;
    m = fresh(0.5);
    td_eval_acc_add(&m, &x, &y, -1, 0);
    CHECK(td_eval_mask_iou(&m, &lo, &mean, &empty));
    CHECK_MSG(fabs(lo - 0.5) < 1e-12 && fabs(mean - (0.5 + 8.0 / 9) / 2) < 1e-12,
              "NHWC: lowest %.12g mean %.12g", lo, mean);
    /* two images of one channel: each its own map */
    int64_t two[4] = {2, 1, 10, 100};
    x.dims = y.dims = two;
    x.data = a, y.data = b;
    m = fresh(0.5);
    td_eval_acc_add(&m, &x, &y, -1, 0);
    CHECK(td_eval_mask_iou(&m, &lo, &mean, &empty));
    CHECK_MSG(fabs(lo - 0.5) < 1e-12, "batch: lowest %.12g", lo);
    size_t maps, ch, mid;
    int last;
    td_eval_map_layout(&x, &maps, &ch, &mid, &last);
    CHECK(maps == 2 && ch == 1 && mid == HW && !last);
}

static void check_no_map(void)
{
    static float a[N], b[N];
    double lo, mean;
    size_t empty;
    fill(a, 0, 200, 0.9f);
    fill(b, 0, 200, 0.9f);
    td_array x = map_of(a), y = map_of(b);
    /* a value above 1 in the reference, in a later sample */
    td_eval_acc m = fresh(0.5);
    td_eval_acc_add(&m, &x, &y, -1, 0);
    a[17] = 1.5f;
    td_eval_acc_add(&m, &x, &y, -1, 0);
    CHECK(!td_eval_mask_iou(&m, &lo, &mean, &empty) && lo == -1 && mean == -1);
    /* a saturated sigmoid's 1 + one float ulp (ONNX Runtime's) is a
     * probability all the same; 1.001 is not */
    a[17] = 1.0000001f;
    m = fresh(0.5);
    td_eval_acc_add(&m, &x, &y, -1, 0);
    CHECK(td_eval_mask_iou(&m, &lo, &mean, &empty) && lo == 1);
    a[17] = -1e-7f;
    m = fresh(0.5);
    td_eval_acc_add(&m, &x, &y, -1, 0);
    CHECK(td_eval_mask_iou(&m, &lo, &mean, &empty));
    a[17] = 1.001f;
    m = fresh(0.5);
    td_eval_acc_add(&m, &x, &y, -1, 0);
    CHECK(!td_eval_mask_iou(&m, &lo, &mean, &empty));
    /* NaN in the reference */
    a[17] = NAN;
    m = fresh(0.5);
    td_eval_acc_add(&m, &x, &y, -1, 0);
    CHECK(!td_eval_mask_iou(&m, &lo, &mean, &empty));
    a[17] = 0.9f;
    /* no threshold: not measured */
    m = fresh(0);
    td_eval_acc_add(&m, &x, &y, -1, 0);
    CHECK(!td_eval_mask_iou(&m, &lo, &mean, &empty));
    /* class scores (rank 2, last axis > 1), even with values in [0, 1] */
    int64_t d2[2] = {10, 100};
    td_array s = x, t = y;
    s.ndim = t.ndim = 2;
    s.dims = t.dims = d2;
    m = fresh(0.5);
    td_eval_acc_add(&m, &s, &t, -1, 0);
    CHECK(m.scores && !td_eval_mask_iou(&m, &lo, &mean, &empty));
    /* an integer output */
    static uint8_t u[N];
    td_array ui = {.dtype = TD_DT_UINT8, .ndim = 4, .dims = dims, .data = u,
                   .nbytes = sizeof u};
    m = fresh(0.5);
    td_eval_acc_add(&m, &ui, &ui, -1, 0);
    CHECK(!td_eval_mask_iou(&m, &lo, &mean, &empty));
}

int main(void)
{
    check_counts();
    check_small_map();
    check_channels();
    check_no_map();
    return TCHECK_DONE();
}
