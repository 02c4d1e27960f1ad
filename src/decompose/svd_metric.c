/* Truncated factoring of a matrix layer under a metric on its output.
 *
 * A layer z = W x (W: m x n, whitened: W_w = W S with S^2 the input's
 * second moment, td_whiten.h) followed by a softmax is judged by the
 * probabilities, not by its m logits alike: KL(p || p') ~ dz^T F dz / 2
 * with F = diag(p) - p p^T. Taking inputs and outputs as independent (as
 * K-FAC does), the expected error of W~ is tr(G dW M dW^T), G = E[F], and
 * in whitened coordinates ||G^(1/2) (W_w - W~_w)||_F^2. Its best rank-r
 * approximation is the projection W~_w = W_w V_r V_r^T onto the r leading
 * eigenvectors of K_w = W_w^T G W_w (n x n): the optimum of the two-sided
 * problem min ||A X B|| keeps only B's side (here the input side), so G
 * itself (m x m; 6625 x 6625 for a text recogniser) is never needed, only
 * K = W^T G W, which the calibration model sums as W^T diag(E p) W -
 * E[(W^T p)(W^T p)^T]. The chain is the SVD's: r x n then m x r.
 *
 * F is zero on logits that do not move the probabilities (a constant added
 * to all of them) and nearly zero on classes the calibration never shows;
 * a share mu of the plain metric W_w^T W_w (scaled to the same trace)
 * keeps those in view, as rel_lambda keeps unseen input channels.
 *
 * The metric chooses the directions kept, not how many: a global budget
 * still weighs the layer by its plain output error. On PP-OCRv4 rec the
 * metric's own error curve (tails of K_w's eigenvalues) called the head
 * so cheap that the allocation took it to rank 24-30 of 120, where the
 * few CTC steps near a tie flip (char accuracy 0.907 at 0.7 of the
 * parameters against 0.957 with the plain curve): a small mean KL says
 * little about the borderline steps. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"

td_status td_metric_blend(const double *s, const double *k, const double *ww,
                          int64_t m, int64_t n, double mu, double *out,
                          td_err_t *err)
{
    size_t nn = (size_t)n * (size_t)n;
    td_status st = td_check_finite(k, nn, err);
    if (st || (st = td_check_finite(ww, (size_t)m * (size_t)n, err)))
        return st;
    if (!(mu >= 0 && isfinite(mu)))
        return td_err_set(err, TD_EINPUT, "metric: mu %g is not >= 0", mu);
    double *t = malloc(nn * sizeof *t), *p = malloc(nn * sizeof *p);
    if (!t || !p) {
        free(t);
        free(p);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    /* K_w = S K S */
    cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, (int)n, (int)n, 1.0, s,
                (int)n, k, (int)n, 0.0, t, (int)n);
    cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, (int)n, (int)n, 1.0, s,
                (int)n, t, (int)n, 0.0, out, (int)n);
    /* P = W_w^T W_w */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)n, (int)m, 1.0, ww,
                (int)n, 0.0, p, (int)n);
    double tk = 0, tp = 0;
    for (int64_t i = 0; i < n; i++) {
        tk += out[i * n + i];
        tp += p[i * n + i];
    }
    double c = tp > 0 && tk > 0 ? mu * tk / tp : tp > 0 ? 1 : 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i; j < n; j++) {
            /* symmetric up to rounding: the mean of the two halves */
            double v = 0.5 * (out[i * n + j] + out[j * n + i]) + c * p[i * n + j];
            out[i * n + j] = out[j * n + i] = v;
        }
    free(t);
    free(p);
    return td_check_finite(out, nn, err);
}

/* The eigen-pairs of kb, descending, eigenvalues clamped at 0 (a metric is
 * positive semidefinite; the runtime's float sums may leave a little
 * below). vec (n x n, column j the j-th) may be NULL. */
static td_status eig_desc(const double *kb, int64_t n, double *val,
                          double *vec, td_err_t *err)
{
    size_t nn = (size_t)n * (size_t)n;
    td_status st = td_check_finite(kb, nn, err);
    if (st)
        return st;
    double *g = malloc(nn * sizeof *g), *u = vec ? vec : malloc(nn * sizeof *u);
    if (!g || !u) {
        free(g);
        if (!vec)
            free(u);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    memcpy(g, kb, nn * sizeof *g);
    st = td_dec_sym_leading(g, n, n, u, val, err);
    for (int64_t i = 0; !st && i < n; i++)
        val[i] = val[i] > 0 ? val[i] : 0;
    free(g);
    if (!vec)
        free(u);
    return st;
}

td_status td_metric_values(const double *kb, int64_t n, double *sv,
                           td_err_t *err)
{
    td_status st = eig_desc(kb, n, sv, NULL, err);
    for (int64_t i = 0; !st && i < n; i++)
        sv[i] = sqrt(sv[i]);
    return st;
}

td_status td_svd_metric(const double *ww, int64_t m, int64_t n,
                        const double *kb, int64_t rank, double tol,
                        td_svd_t *out, td_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (m < 1 || n < 1)
        return td_err_set(err, TD_EINPUT, "metric svd: bad size %lld x %lld",
                          (long long)m, (long long)n);
    if (rank <= 0 && !(tol >= 0.0 && isfinite(tol)))
        return td_err_set(err, TD_EINPUT, "metric svd: tolerance %g is not "
                          ">= 0", tol);
    td_status st = td_check_finite(ww, (size_t)m * (size_t)n, err);
    if (st)
        return st;
    int64_t k = m < n ? m : n;
    double *val = NULL, *vec = NULL;
    if ((st = td_dec_alloc(&val, (size_t)n, 1, err)) ||
        (st = td_dec_alloc(&vec, (size_t)n, (size_t)n, err)) ||
        (st = eig_desc(kb, n, val, vec, err)))
        goto done;
    /* the full spectrum, as td_svd's: min(m, n) values (K_w has rank <= m) */
    if ((st = td_dec_alloc(&out->sv, (size_t)k, 1, err)))
        goto done;
    for (int64_t i = 0; i < k; i++)
        out->sv[i] = sqrt(val[i]);
    int64_t r = rank > 0 ? rank : td_rank_for_tol(out->sv, k, tol);
    r = r > k ? k : r < 1 ? 1 : r;
    if ((st = td_dec_alloc(&out->left, (size_t)m, (size_t)r, err)) ||
        (st = td_dec_alloc(&out->right, (size_t)r, (size_t)n, err)))
        goto done;
    /* right = V_r^T, left = W_w V_r; then each pair rescaled to equal
     * norms, as td_svd's square-root split balances its two layers. The
     * plain error of the projection is ||W_w||^2 - sum ||W_w v_q||^2 (the
     * v_q orthonormal): the columns' norms before the rescaling. */
    for (int64_t q = 0; q < r; q++)
        for (int64_t i = 0; i < n; i++)
            out->right[q * n + i] = vec[i * n + q];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)r,
                (int)n, 1.0, ww, (int)n, out->right, (int)n, 0.0, out->left,
                (int)r);
    double all = 0, kept = 0;
    for (size_t i = 0; i < (size_t)m * (size_t)n; i++)
        all += ww[i] * ww[i];
    for (int64_t q = 0; q < r; q++) {
        double c = 0;
        for (int64_t i = 0; i < m; i++)
            c += out->left[i * r + q] * out->left[i * r + q];
        kept += c;
        c = sqrt(sqrt(c));  /* sqrt of the column's norm */
        if (!(c > 0))
            continue;
        for (int64_t i = 0; i < m; i++)
            out->left[i * r + q] /= c;
        for (int64_t i = 0; i < n; i++)
            out->right[q * n + i] *= c;
    }
    out->m = m;
    out->n = n;
    out->rank = r;
    out->rel_error = all > 0 && all > kept ? sqrt((all - kept) / all) : 0;
done:
    if (st)
        td_svd_free(out);
    free(val);
    free(vec);
    return st;
}
