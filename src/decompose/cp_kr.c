/* Khatri-Rao building blocks for CP: the MTTKRP (matricised tensor times
 * Khatri-Rao product) that drives ALS, and the dense reconstruction. Both
 * walk the tensor in row blocks so scratch stays bounded (about
 * CP_BLOCK doubles) whatever the tensor size. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cp_internal.h"

#define CP_BLOCK ((size_t)1 << 20)

/* Row p (row-major multi-index over modes lo..hi-1) of the Khatri-Rao
 * product of those factors: out[r] = prod_m f[m][i_m, r]. */
static void kr_row(double *const *f, const int64_t *dims, int lo, int hi,
                   size_t p, int64_t rank, double *out)
{
    for (int64_t r = 0; r < rank; r++)
        out[r] = 1.0;
    for (int m = hi - 1; m >= lo; m--) {
        size_t i = p % (size_t)dims[m];
        p /= (size_t)dims[m];
        const double *row = f[m] + i * (size_t)rank;
        for (int64_t r = 0; r < rank; r++)
            out[r] *= row[r];
    }
}

static void kr_rows(double *const *f, const int64_t *dims, int lo, int hi,
                    size_t p0, size_t count, int64_t rank, double *out)
{
    for (size_t p = 0; p < count; p++)
        kr_row(f, dims, lo, hi, p0 + p, rank, out + p * (size_t)rank);
}

td_status td_cp_mttkrp(const double *t, int nd, const int64_t *dims,
                       double *const *f, int64_t rank, int n, double *m,
                       td_err_t *err)
{
    td_status st;
    double *kr = NULL, *tmp = NULL, *krl = NULL;
    size_t left = 1, right = 1, dn = (size_t)dims[n], R = (size_t)rank;
    for (int q = 0; q < n; q++)
        left *= (size_t)dims[q];
    for (int q = n + 1; q < nd; q++)
        right *= (size_t)dims[q];
    size_t chunk = CP_BLOCK / (dn * R + 1);
    if (chunk < 1)
        chunk = 1;
    if (chunk > left)
        chunk = left;
    if ((st = td_dec_alloc(&krl, chunk, R, err)) ||
        (right > 1 && (st = td_dec_alloc(&kr, right, R, err))) ||
        (right > 1 && (st = td_dec_alloc(&tmp, chunk * dn, R, err))))
        goto cleanup;
    memset(m, 0, dn * R * sizeof *m);
    if (right > 1)
        kr_rows(f, dims, n + 1, nd, 0, right, rank, kr);
    for (size_t l0 = 0; l0 < left; l0 += chunk) {
        size_t lc = left - l0 < chunk ? left - l0 : chunk;
        const double *x = t + l0 * dn * right;
        if (n > 0)
            kr_rows(f, dims, 0, n, l0, lc, rank, krl);
        if (right == 1) {
            /* M += X_blk^T KR_left_blk, X_blk is lc x dn */
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)dn, (int)R,
                        (int)lc, 1.0, x, (int)dn, krl, (int)R, 1.0, m, (int)R);
            continue;
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(lc * dn),
                    (int)R, (int)right, 1.0, x, (int)right, kr, (int)R, 0.0,
                    tmp, (int)R);
        for (size_t l = 0; l < lc; l++) {
            const double *w = n > 0 ? krl + l * R : NULL;
            for (size_t i = 0; i < dn; i++) {
                const double *src = tmp + (l * dn + i) * R;
                double *dst = m + i * R;
                if (w)
                    for (size_t r = 0; r < R; r++)
                        dst[r] += w[r] * src[r];
                else
                    for (size_t r = 0; r < R; r++)
                        dst[r] += src[r];
            }
        }
    }
    st = TD_OK;
cleanup:
    free(kr);
    free(tmp);
    free(krl);
    return st;
}

void td_cp_partial0(const double *t, const int64_t *dims, size_t rest,
                    const double *f0, int64_t rank, double *z)
{
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)rest, (int)rank,
                (int)dims[0], 1.0, t, (int)rest, f0, (int)rank, 0.0, z,
                (int)rank);
}

void td_cp_mttkrp_from0(const double *z, int nd, const int64_t *dims,
                        double *const *f, int64_t rank, int n, double *m)
{
    size_t R = (size_t)rank, rest = 1;
    int64_t idx[TD_MAX_MODES] = {0};
    const double *row[TD_MAX_MODES];
    for (int q = 1; q < nd; q++)
        rest *= (size_t)dims[q];
    memset(m, 0, (size_t)dims[n] * R * sizeof *m);
    for (size_t p = 0; p < rest; p++) {
        const double *zr = z + p * R;
        double *dst = m + (size_t)idx[n] * R;
        int k = 0;
        for (int q = 1; q < nd; q++)
            if (q != n)
                row[k++] = f[q] + (size_t)idx[q] * R;
        for (size_t r = 0; r < R; r++) {
            double w = zr[r];
            for (int q = 0; q < k; q++)
                w *= row[q][r];
            dst[r] += w;
        }
        for (int q = nd - 1; q >= 1; q--) {  /* row-major odometer */
            if (++idx[q] < dims[q])
                break;
            idx[q] = 0;
        }
    }
}

/* full (d0 x rest) = A_0 * KR(A_1..A_{N-1})^T, one column block at a time. */
td_status td_cp_full_dense(int nd, const int64_t *dims, double *const *f,
                           int64_t rank, double *full, td_err_t *err)
{
    td_status st;
    double *kr = NULL;
    size_t right = 1, R = (size_t)rank, d0 = (size_t)dims[0];
    for (int q = 1; q < nd; q++)
        right *= (size_t)dims[q];
    size_t chunk = CP_BLOCK / (R + 1);
    if (chunk < 1)
        chunk = 1;
    if (chunk > right)
        chunk = right;
    if ((st = td_dec_alloc(&kr, chunk, R, err)))
        return st;
    for (size_t j0 = 0; j0 < right; j0 += chunk) {
        size_t jc = right - j0 < chunk ? right - j0 : chunk;
        kr_rows(f, dims, 1, nd, j0, jc, rank, kr);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)d0, (int)jc,
                    (int)R, 1.0, f[0], (int)R, kr, (int)R, 0.0, full + j0,
                    (int)right);
    }
    free(kr);
    return TD_OK;
}

/* Columns normalised to unit length, the product of the norms spread as
 * lambda^(1/N) over the N factors (so no factor carries the whole scale),
 * and components ordered by decreasing lambda for reproducible output. */
td_status td_cp_normalise(int nd, const int64_t *dims, double **f,
                          int64_t rank, td_err_t *err)
{
    td_status st;
    double *lam = NULL, *tmp = NULL;
    int64_t *order = NULL;
    size_t R = (size_t)rank;
    if ((st = td_dec_alloc(&lam, R, 1, err)))
        goto cleanup;
    order = malloc(R * sizeof *order);
    if (!order) {
        st = td_err_set(err, TD_ENOMEM, "cp: out of memory");
        goto cleanup;
    }
    for (size_t r = 0; r < R; r++) {
        double l = 1.0;
        for (int m = 0; m < nd; m++) {
            double s = 0.0;
            for (int64_t i = 0; i < dims[m]; i++)
                s += f[m][(size_t)i * R + r] * f[m][(size_t)i * R + r];
            l *= sqrt(s);
        }
        lam[r] = l;
        for (int m = 0; m < nd; m++) {
            double s = 0.0;
            for (int64_t i = 0; i < dims[m]; i++)
                s += f[m][(size_t)i * R + r] * f[m][(size_t)i * R + r];
            double scale = l > 0.0 ? pow(l, 1.0 / nd) / sqrt(s) : 0.0;
            for (int64_t i = 0; i < dims[m]; i++)
                f[m][(size_t)i * R + r] *= scale;
        }
    }
    /* insertion sort: stable, ranks are modest */
    for (size_t r = 0; r < R; r++) {
        size_t j = r;
        while (j > 0 && lam[order[j - 1]] < lam[r]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (int64_t)r;
    }
    for (int m = 0; m < nd; m++) {
        size_t dm = (size_t)dims[m];
        if ((st = td_dec_alloc(&tmp, dm, R, err)))
            goto cleanup;
        for (size_t i = 0; i < dm; i++)
            for (size_t r = 0; r < R; r++)
                tmp[i * R + r] = f[m][i * R + (size_t)order[r]];
        free(f[m]);
        f[m] = tmp;
        tmp = NULL;
    }
    st = TD_OK;
cleanup:
    free(lam);
    free(order);
    free(tmp);
    return st;
}

td_status td_cp_rel_error(const double *t, const td_cp_t *c, double nt,
                          double *rel, td_err_t *err)
{
    size_t n;
    double *full = NULL;
    td_status st = td_dec_numel(c->dims, c->ndim, &n, err);
    if (st)
        return st;
    if ((st = td_dec_alloc(&full, n, 1, err)))
        return st;
    st = td_cp_full_dense(c->ndim, c->dims, c->factors, c->rank, full, err);
    if (!st)
        *rel = nt > 0.0 ? td_dec_diff_norm(t, full, n) / nt : 0.0;
    free(full);
    return st;
}
