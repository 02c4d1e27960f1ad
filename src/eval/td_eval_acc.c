/* The deviation of one output from its reference, summed over samples:
 * rel. L2 = ||b - a|| / ||a||, cosine = <a, b> / (||a|| ||b||), the
 * largest |b - a|, top-1 agreement over the last axis of class scores,
 * the IoU of probability maps binarised at a threshold. */
#include <math.h>

#include "eval/td_eval_internal.h"

int td_eval_looks_like_scores(const td_array *a)
{
    return td_array_is_float(a->dtype) && (a->ndim == 2 || a->ndim == 3) &&
           a->dims[a->ndim - 1] > 1;
}

void td_eval_acc_note_inputs(td_eval_acc *m, const td_array *out,
                             const td_array *in, size_t n_in)
{
    for (size_t i = 0; i < n_in && !m->state; i++) {
        if (td_array_same_shape(&in[i], out)) {
            m->state = 1;
            m->state_input = i;
            m->scores = 0;
        }
    }
}

static size_t argmax(const td_array *a, size_t from, size_t n)
{
    size_t best = from;
    double v = td_array_get(a, from);
    for (size_t i = from + 1; i < from + n; i++) {
        double x = td_array_get(a, i);
        if (x > v || (isnan(v) && !isnan(x)))
            v = x, best = i;
    }
    return best - from;
}

/* One map's IoU: counted (or, small or nearly empty, pooled or left out). */
static void add_one_map(td_eval_acc *m, size_t inter, size_t uni, size_t n)
{
    m->pool_inter += inter;
    m->pool_union += uni;
    if (n < TD_EVAL_IOU_MIN_PIXELS) {
        m->iou_small = 1;
        return;
    }
    if ((double)uni < TD_EVAL_IOU_MIN_UNION * (double)n) {
        m->iou_empty++;
        return;
    }
    double v = (double)inter / (double)uni;
    if (!m->iou_n || v < m->iou_min)
        m->iou_min = v;
    m->iou_sum += v;
    m->iou_n++;
}

void td_eval_map_layout(const td_array *a, size_t *maps, size_t *ch,
                        size_t *mid, int *last)
{
    size_t n = td_array_numel(a);
    *maps = 1, *ch = 1, *mid = n, *last = 0;
    if (a->ndim < 4 || !n)
        return;
    int64_t c1 = a->dims[1], cl = a->dims[a->ndim - 1];
    *last = cl < c1;
    *ch = (size_t)(*last ? cl : c1);
    *maps = (size_t)a->dims[0] * *ch;
    *mid = n / *maps;
}

/* One sample's IoU of the maps binarised at m->iou_t, as a user of a
 * segmentation mask or a detector's map reads them; a reference value
 * outside [0, 1] (by more than TD_EVAL_MAP_SLACK) marks the output as no
 * probability map. A rank-4 (or more) output holds one map per image and
 * channel (td_eval_map_layout): a detector's per-anchor face
 * probabilities beside their complements, the background's, whose maps
 * are nearly all on; pooled, those would hold the IoU near 1 whatever
 * became of the faces. */
static void add_mask(td_eval_acc *m, const td_array *a, const td_array *b,
                     size_t n)
{
    if (!td_array_is_float(a->dtype)) {
        m->not_map = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        double x = td_array_get(a, i);
        if (!(x >= -TD_EVAL_MAP_SLACK && x <= 1 + TD_EVAL_MAP_SLACK)) {
            m->not_map = 1;
            return;
        }
    }
    size_t maps, ch, mid;
    int last;
    td_eval_map_layout(a, &maps, &ch, &mid, &last);
    m->iou_channels |= maps > 1;
    for (size_t k = 0; k < maps; k++) {
        size_t img = k / ch, c = k % ch, inter = 0, uni = 0;
        for (size_t j = 0; j < mid; j++) {
            size_t i = last ? (img * mid + j) * ch + c : k * mid + j;
            double x = td_array_get(a, i), y = td_array_get(b, i);
            int on_a = x > m->iou_t, on_b = y > m->iou_t;  /* NaN in b: off */
            inter += on_a && on_b;
            uni += on_a || on_b;
        }
        add_one_map(m, inter, uni, mid);
    }
}

int td_eval_mask_iou(const td_eval_acc *m, double *min, double *mean,
                     size_t *empty)
{
    *min = *mean = -1;
    *empty = 0;
    if (!(m->iou_t > 0) || m->not_map ||
        !(m->iou_n + m->iou_empty + (size_t)m->iou_small) || m->scores ||
        m->state)
        return 0;
    *empty = m->iou_empty;
    if (m->iou_n && !m->iou_small) {
        *min = m->iou_min;
        *mean = m->iou_sum / (double)m->iou_n;
    } else {
        *min = *mean = m->pool_union ? (double)m->pool_inter /
                                           (double)m->pool_union
                                     : 1.0;
    }
    return 1;
}

void td_eval_acc_add(td_eval_acc *m, const td_array *a, const td_array *b,
                     double elem_rtol, double elem_atol)
{
    size_t n = td_array_numel(a);
    for (size_t i = 0; i < n; i++) {
        double x = td_array_get(a, i), y = td_array_get(b, i);
        m->elements++;
        if (isnan(x) || isnan(y) || isinf(x) || isinf(y)) {
            /* Matching NaNs or equal infinities agree; sums stay finite. */
            if ((isnan(x) && isnan(y)) || x == y)
                continue;
            m->nan_mismatch++;
            m->max_abs = INFINITY;
            if (elem_rtol >= 0)
                m->elem_mismatch++;
            continue;
        }
        double d = y - x;
        m->sum_aa += x * x;
        m->sum_bb += y * y;
        m->sum_ab += x * y;
        m->sum_dd += d * d;
        if (fabs(d) > m->max_abs)
            m->max_abs = fabs(d);
        if (elem_rtol >= 0 && fabs(d) > elem_atol + elem_rtol * fabs(x))
            m->elem_mismatch++;
    }
    if (m->iou_t > 0 && !m->not_map)
        add_mask(m, a, b, n);
    if (!m->state && td_eval_looks_like_scores(a)) {
        m->scores = 1;
        size_t c = (size_t)a->dims[a->ndim - 1];
        for (size_t r = 0; r + c <= n; r += c) {
            m->rows++;
            m->agree += argmax(a, r, c) == argmax(b, r, c);
        }
    }
}

double td_eval_rel_l2(const td_eval_acc *m)
{
    if (m->nan_mismatch)
        return INFINITY;
    if (m->sum_aa == 0)
        return m->sum_dd == 0 ? 0.0 : INFINITY;
    return sqrt(m->sum_dd) / sqrt(m->sum_aa);
}

double td_eval_cosine(const td_eval_acc *m)
{
    if (m->sum_aa == 0 && m->sum_bb == 0)
        return m->nan_mismatch ? 0.0 : 1.0;
    if (m->sum_aa == 0 || m->sum_bb == 0)
        return 0.0;
    return m->sum_ab / (sqrt(m->sum_aa) * sqrt(m->sum_bb));
}
