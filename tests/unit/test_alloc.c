/* The global rank allocator on hand-made spectra: the budget is met from
 * just below, the layer whose spectrum decays fast gives up more, rank
 * multiples and minimum ranks hold, a layer that cannot shrink is kept, and
 * the weakened EVBMF rank follows its formula. */
#include <math.h>
#include <stdlib.h>

#include "passes/td_alloc.h"
#include "tcheck.h"

/* tail[r] of a spectrum s_i = decay^i, n values. */
static double *tail_of(int64_t n, double decay)
{
    double *t = calloc((size_t)n + 1, sizeof *t), total = 0;
    for (int64_t i = 0; i < n; i++)
        total += pow(decay, 2.0 * (double)i);
    double run = 0;
    for (int64_t i = n; i-- > 0;) {
        run += pow(decay, 2.0 * (double)i);
        t[i] = run / total;
    }
    return t;
}

static void tucker(td_alloc_layer *l, int64_t c, double decay)
{
    l->n0 = l->n1 = c;
    l->tail0 = tail_of(c, decay);
    l->tail1 = tail_of(c, decay);
    l->c0 = l->c1 = (double)c;
    l->c01 = 9;
    l->cfix = 0;
    l->orig = (double)(c * c * 9);
    l->weight = 1;
}

int main(void)
{
    td_alloc_layer l[3] = {0};
    tucker(&l[0], 64, 0.80);  /* fast decay: cheap to cut */
    tucker(&l[1], 64, 0.99);  /* flat */
    tucker(&l[2], 4, 0.5);    /* too small to gain: stays */
    double before = 1000 + l[0].orig + l[1].orig + l[2].orig;
    td_alloc_opts o = {1, 1, 0};
    double target = 0.5 * before;
    double got = td_alloc_ranks(l, 3, 1000, target, &o);
    CHECK_MSG(got <= target && got >= 0.98 * target, "got %g target %g", got, target);
    double sum = 1000;
    for (int i = 0; i < 3; i++)
        sum += l[i].cost;
    CHECK(fabs(sum - got) < 1e-6);
    CHECK(!l[0].keep);
    CHECK(l[0].r0 < l[1].r0 || l[1].keep);
    CHECK(l[2].keep);
    CHECK(l[0].err2 <= l[1].err2 || l[1].keep);

    /* multiples of 8, at least 16 */
    td_alloc_opts o8 = {8, 16, 0};
    got = td_alloc_ranks(l, 3, 1000, 0.3 * before, &o8);
    /* steps of 8 ranks are coarse on layers this small: within 15 % */
    CHECK_MSG(got <= 0.3 * before && got >= 0.85 * 0.3 * before, "got %g", got);
    for (int i = 0; i < 2; i++)
        if (!l[i].keep) {
            CHECK(l[i].r0 % 8 == 0 && l[i].r1 % 8 == 0);
            CHECK(l[i].r0 >= 16 && l[i].r1 >= 16);
        }

    /* the default rounding: multiples of 16 from 16 up on modes of 64 or
     * more, ranks below 16 and narrower modes free */
    td_alloc_layer m[1] = {0};
    tucker(&m[0], 64, 0.9);
    td_alloc_opts from16 = {16, 1, 64};
    CHECK(td_alloc_step(&from16, 64, 40) == 16 && td_alloc_step(&from16, 64, 16) == 16);
    CHECK(td_alloc_step(&from16, 64, 15) == 1 && td_alloc_step(&from16, 63, 40) == 1);
    for (double f = 0.05; f < 0.9; f += 0.2) {
        got = td_alloc_ranks(m, 1, 0, f * m[0].orig, &from16);
        CHECK_MSG(got <= f * m[0].orig, "got %g at %g", got, f);
        CHECK_MSG(m[0].keep || ((m[0].r0 % 16 == 0 || m[0].r0 < 16) &&
                                (m[0].r1 % 16 == 0 || m[0].r1 < 16)),
                  "ranks %lld %lld at %g", (long long)m[0].r0,
                  (long long)m[0].r1, f);
    }
    /* a budget below one block's chain is reached with free ranks */
    got = td_alloc_ranks(m, 1, 0, 0.05 * m[0].orig, &from16);
    CHECK_MSG(!m[0].keep && m[0].r0 < 16 && got >= 0.8 * 0.05 * m[0].orig,
              "ranks %lld %lld, got %g", (long long)m[0].r0, (long long)m[0].r1, got);
    CHECK(td_alloc_weakened_rank(10, 48, 1.0, &from16) == 10);
    CHECK(td_alloc_weakened_rank(10, 48, 0.5, &from16) == 29);
    CHECK(td_alloc_weakened_rank(10, 64, 0.5, &from16) == 48);
    free((void *)m[0].tail0);
    free((void *)m[0].tail1);

    /* an impossible target is reported by a total above it */
    got = td_alloc_ranks(l, 3, 1000, 500, &o);
    CHECK(got > 500);

    /* weakened EVBMF: 64 - 0.5 * (64 - 10) = 37, up to a multiple of 8: 40 */
    td_alloc_opts w1 = {1, 1, 0}, w8 = {8, 1, 0}, wmin = {1, 12, 0};
    CHECK(td_alloc_weakened_rank(10, 64, 1.0, &w1) == 10);
    CHECK(td_alloc_weakened_rank(10, 64, 0.5, &w1) == 37);
    CHECK(td_alloc_weakened_rank(10, 64, 0.5, &w8) == 40);
    CHECK(td_alloc_weakened_rank(0, 64, 1.0, &w1) == 1);
    CHECK(td_alloc_weakened_rank(10, 64, 1.0, &wmin) == 12);
    CHECK(td_alloc_weakened_rank(60, 62, 1.0, &w8) == 62);
    for (int i = 0; i < 3; i++) {
        free((void *)l[i].tail0);
        free((void *)l[i].tail1);
    }
    return TCHECK_DONE();
}
