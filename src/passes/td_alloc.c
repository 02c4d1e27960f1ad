/* Greedy marginal allocation. Removing one rank step from a layer costs
 * some weighted error and saves some cost; taking, at each step, the move
 * with the smallest error per unit of cost saved is optimal when each
 * layer's error-versus-cost curve is convex, which truncated spectra nearly
 * are. The exception is the first move of a layer: its chain only saves
 * anything once the ranks are below break-even, so that move is a jump from
 * "original" to the point of the proportional-rank path with the best
 * average rate (the lower convex hull's first edge). A final pass hands back
 * rank steps while they fit, so the target is met from just below. */
#include "td_alloc.h"

#include <math.h>
#include <stdlib.h>

double td_alloc_cost(const td_alloc_layer *l, int64_t r0, int64_t r1)
{
    double a = (double)r0, b = l->n1 ? (double)r1 : 0;
    return l->c0 * a + l->c1 * b + l->c01 * a * b + l->cfix;
}

static double err2_at(const td_alloc_layer *l, int64_t r0, int64_t r1)
{
    return l->tail0[r0] + (l->n1 ? l->tail1[r1] : 0);
}

int64_t td_alloc_step(const td_alloc_opts *o, int64_t w, int64_t r)
{
    if (o->multiple < 1 || (o->multiple_from > 0 &&
                            (w < o->multiple_from || r < o->multiple)))
        return 1;
    return o->multiple;
}

/* The width of a mode, for the rounding. */
static int64_t width(const td_alloc_layer *l, int mode)
{
    int64_t w = mode ? l->w1 : l->w0;
    return w > 0 ? w : mode ? l->n1 : l->n0;
}

/* Smallest allowed rank of a mode of size n, w wide. */
static int64_t lowest(int64_t n, int64_t w, const td_alloc_opts *o)
{
    int64_t k = td_alloc_step(o, w, o->min_rank), lo = o->min_rank;
    lo = (lo + k - 1) / k * k;
    return lo <= n ? lo : n;
}

/* The allowed rank at or below r (multiples of k, at least the lowest). */
static int64_t snap_down(int64_t r, int64_t n, int64_t w,
                         const td_alloc_opts *o)
{
    int64_t lo = lowest(n, w, o);
    if (r >= n)
        return n;
    int64_t k = td_alloc_step(o, w, r);
    r = r / k * k;
    return r < lo ? lo : r;
}

typedef struct move {
    int valid;
    int64_t r0, r1;
    double rate;  /* weighted error added per unit of cost saved */
} move;

static move best_jump(const td_alloc_layer *l, const td_alloc_opts *o)
{
    move m = {0};
    int64_t w0 = width(l, 0), w1 = width(l, 1);
    int64_t lo0 = lowest(l->n0, w0, o);
    for (int64_t r0 = l->n0; r0 >= lo0;
         r0 -= (r0 == l->n0 ? 1 : td_alloc_step(o, w0, r0 - 1))) {
        int64_t a = snap_down(r0, l->n0, w0, o);
        int64_t b = 0;
        if (l->n1) {
            int64_t t = (int64_t)floor((double)a * (double)l->n1 / (double)l->n0);
            b = snap_down(t < 1 ? 1 : t, l->n1, w1, o);
        }
        double saved = l->orig - td_alloc_cost(l, a, b);
        if (saved > 0) {
            double rate = l->weight * err2_at(l, a, b) / saved;
            if (!m.valid || rate < m.rate)
                m = (move){1, a, b, rate};
        }
        if (a == lo0)
            break;
        r0 = a;
    }
    return m;
}

static move best_step(const td_alloc_layer *l, const td_alloc_opts *o)
{
    move m = {0};
    double c = l->cost, e = err2_at(l, l->r0, l->r1);
    for (int mode = 0; mode < (l->n1 ? 2 : 1); mode++) {
        int64_t n = mode ? l->n1 : l->n0, r = mode ? l->r1 : l->r0;
        int64_t w = width(l, mode);
        if (r <= lowest(n, w, o))
            continue;
        int64_t down = snap_down(r - 1, n, w, o);
        int64_t a = mode ? l->r0 : down, b = mode ? down : l->r1;
        double saved = c - td_alloc_cost(l, a, b);
        if (saved <= 0)
            continue;
        double rate = l->weight * (err2_at(l, a, b) - e) / saved;
        if (!m.valid || rate < m.rate)
            m = (move){1, a, b, rate};
    }
    return m;
}

static move next_move(const td_alloc_layer *l, const td_alloc_opts *o)
{
    move none = {0};
    if (l->fixed)
        return none;
    return l->keep ? best_jump(l, o) : best_step(l, o);
}

/* Hands back single rank steps, the most error removed per unit of cost
 * first, while the total stays within the target. */
static double refill(td_alloc_layer *l, size_t n, double total, double target,
                     const td_alloc_opts *o)
{
    for (;;) {
        size_t best = n;
        double best_gain = 0;
        int64_t b0 = 0, b1 = 0;
        double b_cost = 0;
        for (size_t i = 0; i < n; i++) {
            if (l[i].keep || l[i].fixed)
                continue;
            for (int mode = 0; mode < (l[i].n1 ? 2 : 1); mode++) {
                int64_t full = mode ? l[i].n1 : l[i].n0;
                int64_t r = mode ? l[i].r1 : l[i].r0;
                if (r >= full)
                    continue;
                int64_t k = td_alloc_step(o, width(&l[i], mode), r + 1);
                int64_t up = r + k - r % k;
                up = up > full ? full : up;
                int64_t a = mode ? l[i].r0 : up, b = mode ? up : l[i].r1;
                double cost = td_alloc_cost(&l[i], a, b);
                double extra = cost - l[i].cost;
                /* a chain at or above the original's cost is never kept */
                if (extra <= 0 || total + extra > target || cost >= l[i].orig)
                    continue;
                double gain = l[i].weight *
                              (err2_at(&l[i], l[i].r0, l[i].r1) -
                               err2_at(&l[i], a, b)) / extra;
                if (best == n || gain > best_gain) {
                    best = i;
                    best_gain = gain;
                    b0 = a;
                    b1 = b;
                    b_cost = cost;
                }
            }
        }
        if (best == n)
            return total;
        total += b_cost - l[best].cost;
        l[best].r0 = b0;
        l[best].r1 = b1;
        l[best].cost = b_cost;
    }
}

double td_alloc_ranks(td_alloc_layer *l, size_t n, double fixed_cost,
                      double target, const td_alloc_opts *o_in)
{
    td_alloc_opts o = *o_in;
    if (o.multiple < 1)
        o.multiple = 1;
    if (o.min_rank < 1)
        o.min_rank = 1;
    double total = fixed_cost;
    for (size_t i = 0; i < n; i++) {
        l[i].keep = 1;
        l[i].r0 = l[i].n0;
        l[i].r1 = l[i].n1;
        l[i].cost = l[i].orig;
        total += l[i].orig;
    }
    move *mv = calloc(n ? n : 1, sizeof *mv);
    if (!mv)
        return total;  /* the caller sees the target unmet */
    for (size_t i = 0; i < n; i++)
        mv[i] = next_move(&l[i], &o);
    while (total > target) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (mv[i].valid && (best == n || mv[i].rate < mv[best].rate))
                best = i;
        if (best == n)
            break;
        td_alloc_layer *x = &l[best];
        double c = td_alloc_cost(x, mv[best].r0, mv[best].r1);
        total += c - x->cost;
        x->keep = 0;
        x->r0 = mv[best].r0;
        x->r1 = mv[best].r1;
        x->cost = c;
        mv[best] = next_move(x, &o);
    }
    free(mv);
    if (total <= target)
        total = refill(l, n, total, target, &o);
    for (size_t i = 0; i < n; i++)
        l[i].err2 = l[i].keep ? 0 : err2_at(&l[i], l[i].r0, l[i].r1);
    return total;
}

int64_t td_alloc_weakened_rank(int64_t r_vbmf, int64_t r_full, double weaken,
                               const td_alloc_opts *o)
{
    double r = (double)r_full - weaken * (double)(r_full - r_vbmf);
    int64_t x = (int64_t)ceil(r - 1e-9);
    int64_t k = td_alloc_step(o, r_full, x);
    x = (x + k - 1) / k * k;
    if (x < o->min_rank)
        x = o->min_rank;
    return x > r_full ? r_full : x < 1 ? 1 : x;
}
