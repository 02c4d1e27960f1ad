/* Reduced-storage direct tensor ring (Gabor & Zdunek 2024): TR-SVD's
 * storage depends on which mode opens the ring (the circular shift) and on
 * how the first rank r is split into r0 * r1; both are searched
 * exhaustively. The first SVD depends only on the shift, so it is computed
 * once per shift and reused for every divisor r0 of its rank. Only
 * candidates that can win (storage not above the best so far) pay for the
 * dense reconstruction that measures their error. */
#include <stdlib.h>
#include <string.h>

#include "tr_internal.h"

td_status td_rsdtr(const double *t, int ndim, const int64_t *dims, double eps,
                   td_tr_t *out, td_err_t *err)
{
    td_status st;
    size_t numel;
    double norm;
    td_tr_first_t f = {0};
    td_tr_t best = {0}, cand = {0};
    int have = 0;
    if (!out)
        return td_err_set(err, TD_EINPUT, "tr: NULL output");
    memset(out, 0, sizeof *out);
    if ((st = td_tr_check(t, ndim, dims, eps, &numel, &norm, err)))
        return st;
    for (int s = 0; s < ndim; s++) {
        if ((st = td_tr_first_svd(t, ndim, dims, numel, norm, eps, s, &f, err)))
            goto cleanup;
        for (int64_t r0 = 1; r0 <= f.r; r0++) {
            if (f.r % r0)
                continue;
            if ((st = td_tr_from_first(&f, r0, &cand, err)))
                goto cleanup;
            if (have && cand.storage > best.storage) {
                td_tr_free(&cand);
                continue;
            }
            if ((st = td_tr_set_error(t, numel, norm, &cand, err)))
                goto cleanup;
            /* candidates arrive in (shift, r0) order, so on equal storage
             * and error the earlier one stays */
            if (!have || cand.storage < best.storage ||
                cand.rel_error < best.rel_error) {
                td_tr_free(&best);
                best = cand;
                memset(&cand, 0, sizeof cand);
                have = 1;
            } else {
                td_tr_free(&cand);
            }
        }
        td_tr_first_free(&f);
    }
    *out = best;
    memset(&best, 0, sizeof best);
    st = TD_OK;
cleanup:
    td_tr_first_free(&f);
    td_tr_free(&cand);
    td_tr_free(&best);
    return st;
}
