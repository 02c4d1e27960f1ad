/* Small shared numerics: input checks, rank rules, norms, index shuffles. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"

td_status td_check_finite(const double *a, size_t n, td_err_t *err)
{
    if (n > 0 && !a)
        return td_err_set(err, TD_EINPUT, "NULL data for %zu values", n);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return td_err_set(err, TD_ENUMERIC,
                              "non-finite value %g at index %zu", a[i], i);
    return TD_OK;
}

/* Tail energies are summed from the small end so that the tiny trailing
 * values are not lost against the large leading ones. */
int64_t td_dec_rank_abs(const double *s, int64_t n, double delta)
{
    double d2 = delta * delta, tail = 0.0;
    int64_t r = n;
    while (r > 0) {
        double t = tail + s[r - 1] * s[r - 1];
        if (t > d2)
            break;
        tail = t;
        r--;
    }
    return r;
}

int64_t td_rank_for_tol(const double *s, int64_t n, double tol)
{
    if (!s || n <= 0)
        return 0;
    double tot = 0.0;
    for (int64_t i = 0; i < n; i++)
        tot += s[i] * s[i];
    if (!(tot > 0.0))
        return 0;
    if (tol < 0.0)
        tol = 0.0;
    int64_t r = td_dec_rank_abs(s, n, tol * sqrt(tot));
    return r < 1 ? 1 : r;
}

td_status td_dec_alloc(double **p, size_t a, size_t b, td_err_t *err)
{
    size_t n, bytes;
    *p = NULL;
    if (td_mul_size(a, b, &n) || td_mul_size(n, sizeof(double), &bytes))
        return td_err_set(err, TD_ENOMEM, "buffer size %zu x %zu overflows",
                          a, b);
    *p = calloc(n ? n : 1, sizeof(double));
    if (!*p)
        return td_err_set(err, TD_ENOMEM, "out of memory (%zu doubles)", n);
    return TD_OK;
}

td_status td_dec_numel(const int64_t *dims, int n, size_t *out, td_err_t *err)
{
    size_t p = 1;
    for (int i = 0; i < n; i++) {
        if (dims[i] <= 0)
            return td_err_set(err, TD_EINPUT, "dimension %d is %lld (must be > 0)",
                              i, (long long)dims[i]);
        if (td_mul_size(p, (size_t)dims[i], &p))
            return td_err_set(err, TD_ENOMEM, "tensor size overflows");
    }
    *out = p;
    return TD_OK;
}

/* Plain sum of squares is exact enough for weights; rescale only when it
 * would overflow or underflow. */
double td_dec_norm(const double *a, size_t n)
{
    double ss = 0.0, mx = 0.0;
    for (size_t i = 0; i < n; i++) {
        ss += a[i] * a[i];
        double v = fabs(a[i]);
        if (v > mx)
            mx = v;
    }
    if (mx == 0.0)
        return 0.0;
    if (isfinite(ss) && ss > 1e-280)
        return sqrt(ss);
    ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = a[i] / mx;
        ss += v * v;
    }
    return mx * sqrt(ss);
}

double td_dec_diff_norm(const double *a, const double *b, size_t n)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = a[i] - b[i];
        ss += d * d;
    }
    return sqrt(ss);
}

void td_dec_unfold(const double *t, int ndim, const int64_t *dims, int k,
                   double *out)
{
    size_t left = 1, right = 1, nk = (size_t)dims[k];
    for (int i = 0; i < k; i++)
        left *= (size_t)dims[i];
    for (int i = k + 1; i < ndim; i++)
        right *= (size_t)dims[i];
    for (size_t l = 0; l < left; l++)
        for (size_t i = 0; i < nk; i++)
            memcpy(out + i * left * right + l * right,
                   t + (l * nk + i) * right, right * sizeof(double));
}

void td_dec_permute(const double *t, int ndim, const int64_t *dims,
                    const int *perm, double *out)
{
    size_t stride_in[TD_MAX_MODES] = {0}, st[TD_MAX_MODES] = {0};
    size_t ext[TD_MAX_MODES] = {0};
    size_t idx[TD_MAX_MODES] = {0}, total = 1;
    size_t s = 1;
    if (ndim < 1 || ndim > TD_MAX_MODES)
        return;
    for (int m = ndim - 1; m >= 0; m--) {
        stride_in[m] = s;
        s *= (size_t)dims[m];
    }
    for (int q = 0; q < ndim; q++) {
        st[q] = stride_in[perm[q]];
        ext[q] = (size_t)dims[perm[q]];
        total *= ext[q];
    }
    /* Innermost output axis is walked in a tight loop; an odometer carries
     * the outer ones. */
    size_t inner = ext[ndim - 1], ist = st[ndim - 1], off = 0;
    for (size_t o = 0; o < total; o += inner) {
        const double *src = t + off;
        for (size_t j = 0; j < inner; j++)
            out[o + j] = src[j * ist];
        for (int q = ndim - 2; q >= 0; q--) {
            idx[q]++;
            off += st[q];
            if (idx[q] < ext[q])
                break;
            off -= st[q] * ext[q];
            idx[q] = 0;
        }
    }
}

void td_dec_vector_signs(const double *u, int64_t m, int64_t k, int64_t ldu,
                         double *sign)
{
    for (int64_t j = 0; j < k; j++) {
        int64_t best = 0;
        for (int64_t i = 1; i < m; i++)
            if (fabs(u[i * ldu + j]) > fabs(u[best * ldu + j]))
                best = i;
        sign[j] = u[best * ldu + j] < 0 ? -1.0 : 1.0;
    }
}
