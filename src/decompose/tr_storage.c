/* Tensor-ring storage without cores: what td_tr_from_first's chain would
 * store, for the searches that compare many candidates and build one.
 *
 * The sequential SVDs are replaced by eigenpairs of the Gram matrix of
 * each unfolding's short side. These unfoldings are very tall or very wide
 * (one side a rank times a kernel size, the other up to Cout x Cin x r0),
 * where LAPACK's SVD runs unblocked Householder sweeps over the long side;
 * the Gram matrix takes one BLAS-3 pass. Singular values below ~1e-8 x the
 * largest lose relative accuracy this way, which can move a rank only when
 * the truncation threshold sits that low; the chain finally chosen is
 * built by exact SVDs.
 *
 * Spectra are cached in the td_tr_first_t. The second unfolding depends
 * only on the first rank r and the split r0, so its singular values serve
 * every eps with the same r. For four modes the last unfolding depends
 * only on r, r0 and the second rank R2: a search closing in on its answer
 * keeps meeting the same (r, r0, R2), and then pays nothing. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tr_internal.h"

/* The top r rows of S Vt for a (m x n): U_r^T a from a a^T's eigenvectors
 * or S_r V_r^T from a^T a's (*next allocated, r x n). gram, when given, is
 * that Gram matrix already computed; a is then needed only for m <= n. */
static td_status gram_project(const double *a, const double *gram, int64_t m,
                              int64_t n, int64_t r, double **next, td_err_t *err)
{
    td_status st;
    int64_t k = m < n ? m : n;
    double *g = NULL, *v = NULL, *lam = NULL;
    *next = NULL;
    if ((st = td_dec_alloc(&g, (size_t)k, (size_t)k, err)) ||
        (st = td_dec_alloc(&v, (size_t)k, (size_t)r, err)) ||
        (st = td_dec_alloc(&lam, (size_t)r, 1, err)) ||
        (st = td_dec_alloc(next, (size_t)r, (size_t)n, err)))
        goto cleanup;
    if (gram)
        memcpy(g, gram, (size_t)k * (size_t)k * sizeof *g);
    else
        td_dec_gram_short(a, m, n, g);
    if ((st = td_dec_sym_leading(g, k, r, v, lam, err)))
        goto cleanup;
    if (m <= n) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)r, (int)n,
                    (int)m, 1.0, v, (int)r, a, (int)n, 0.0, *next, (int)n);
    } else {
        for (int64_t c = 0; c < r; c++) {
            double s = lam[c] > 0.0 ? sqrt(lam[c]) : 0.0;
            for (int64_t j = 0; j < n; j++)
                (*next)[c * n + j] = s * v[j * r + c];
        }
    }
cleanup:
    free(g);
    free(v);
    free(lam);
    if (st) {
        free(*next);
        *next = NULL;
    }
    return st;
}

static const td_tr_spec_t *spec_find(const td_tr_first_t *f, int64_t r0,
                                     int64_t r2)
{
    for (int i = 0; i < f->nspec; i++)
        if (f->spec[i].r == f->r && f->spec[i].r0 == r0 && f->spec[i].r2 == r2)
            return &f->spec[i];
    return NULL;
}

/* Takes ownership of sv (freed on failure). */
static td_status spec_add(td_tr_first_t *f, int64_t r0, int64_t r2, double *sv,
                          int64_t k, const td_tr_spec_t **out, td_err_t *err)
{
    if (f->nspec == f->capspec) {
        int cap = f->capspec ? 2 * f->capspec : 16;
        td_tr_spec_t *p = realloc(f->spec, (size_t)cap * sizeof *p);
        if (!p) {
            free(sv);
            return td_err_set(err, TD_ENOMEM, "tr: out of memory");
        }
        f->spec = p;
        f->capspec = cap;
    }
    f->spec[f->nspec] = (td_tr_spec_t){f->r, r0, r2, k, sv};
    *out = &f->spec[f->nspec++];
    return TD_OK;
}

td_status td_tr_first_spec(td_tr_first_t *f, int64_t r0, const double **s,
                           int64_t *k, td_err_t *err)
{
    td_status st;
    double *c = NULL, *sv = NULL;
    if (f->ndim < 3 || r0 <= 0 || f->r % r0 != 0)
        return td_err_set(err, TD_EINPUT, "tr: no second unfolding for r0 %lld",
                          (long long)r0);
    const td_tr_spec_t *e = spec_find(f, r0, 0);
    if (!e) {
        int64_t rows = (f->r / r0) * f->mdims[1];
        int64_t cols = (int64_t)((size_t)f->r * f->rest / (size_t)rows);
        int64_t kk = rows < cols ? rows : cols;
        /* the last Gram matrix is kept: the search asks for a candidate's
         * storage right after its spectrum */
        free(f->gram);
        f->gram = NULL;
        if ((st = td_dec_alloc(&f->gram, (size_t)kk, (size_t)kk, err)) ||
            (st = td_tr_second_matrix(f, r0, &c, err)) ||
            (st = td_dec_gram_values(c, rows, cols, &sv, f->gram, "tr", err)))
            goto cleanup;
        f->gram_r = f->r;
        f->gram_r0 = r0;
        st = spec_add(f, r0, 0, sv, kk, &e, err);
        if (st)
            goto cleanup;
    }
    *s = e->s;
    *k = e->k;
    st = TD_OK;
cleanup:
    free(c);
    return st;
}

/* Four modes: the last unfolding's spectrum for (r, r0, R2), cached. */
static td_status last_spec4(td_tr_first_t *f, int64_t r0, int64_t r2,
                            const td_tr_spec_t **e, td_err_t *err)
{
    td_status st;
    double *c = NULL, *next = NULL, *sv = NULL;
    if ((*e = spec_find(f, r0, r2)))
        return TD_OK;
    int64_t r1 = f->r / r0;
    int64_t rows = r1 * f->mdims[1];
    int64_t cols = (int64_t)((size_t)f->r * f->rest / (size_t)rows);
    int64_t lrows = r2 * f->mdims[2], lcols = f->mdims[3] * r0;
    const double *g = f->gram && f->gram_r == f->r && f->gram_r0 == r0
                          ? f->gram : NULL;
    if ((!g || rows <= cols) && (st = td_tr_second_matrix(f, r0, &c, err)))
        goto cleanup;
    if ((st = gram_project(c, g, rows, cols, r2, &next, err)) ||
        (st = td_dec_gram_values(next, lrows, lcols, &sv, NULL, "tr", err)))
        goto cleanup;
    st = spec_add(f, r0, r2, sv, lrows < lcols ? lrows : lcols, e, err);
cleanup:
    free(c);
    free(next);
    return st;
}

td_status td_tr_first_storage(td_tr_first_t *f, int64_t r0, int64_t *storage,
                              td_err_t *err)
{
    td_status st;
    int d = f->ndim;
    int64_t R[TD_MAX_MODES + 1];
    double *c = NULL, *next = NULL;
    if ((st = td_tr_check_r0(f, r0, err)))
        return st;
    R[0] = R[d] = r0;
    R[1] = f->r / r0;
    if (d >= 3) {
        const double *sv;
        int64_t k;
        if ((st = td_tr_first_spec(f, r0, &sv, &k, err)))
            return st;
        R[2] = td_tr_rank_at(sv, k, f->delta, NULL);
    }
    if (d == 4) {
        const td_tr_spec_t *e;
        if ((st = last_spec4(f, r0, R[2], &e, err)))
            return st;
        R[3] = td_tr_rank_at(e->s, e->k, f->delta, NULL);
    } else if (d > 4) {
        /* the middle steps need their bases: no cache */
        size_t csize = (size_t)f->r * f->rest;
        if ((st = td_tr_second_matrix(f, r0, &c, err)))
            goto cleanup;
        for (int j = 1; j <= d - 2; j++) {
            int64_t rows = R[j] * f->mdims[j];
            int64_t cols = (int64_t)(csize / (size_t)rows);
            if (j > 1) {  /* R[2] came from the cached spectrum */
                double *sv;
                if ((st = td_dec_gram_values(c, rows, cols, &sv, NULL, "tr",
                                              err)))
                    goto cleanup;
                R[j + 1] = td_tr_rank_at(sv, rows < cols ? rows : cols,
                                         f->delta, NULL);
                free(sv);
            }
            if (j == d - 2)  /* only the closing core's rank matters */
                break;
            if ((st = gram_project(c, NULL, rows, cols, R[j + 1], &next, err)))
                goto cleanup;
            free(c);
            c = next;
            next = NULL;
            csize = (size_t)R[j + 1] * (size_t)cols;
        }
    }
    *storage = td_tr_storage_of(f, R);
    st = TD_OK;
cleanup:
    free(c);
    free(next);
    return st;
}
