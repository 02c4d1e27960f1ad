/* The whitening's rel_lambda by cross-validation over folds of the
 * calibration inputs; see td_whiten.h.
 *
 * For one fold held out, everything is worked in the eigenbasis V of the
 * other folds' covariance C (eigenvalues e), where S = diag(s), s_i =
 * sqrt(e_i + lambda), is diagonal. The factoring keeps the leading r right
 * singular vectors of A S (A: the weight with Cin on the columns), i.e. the
 * leading eigenvectors u_i (eigenvalues d_i) of K = S G S, G = A^T A; its
 * map is A T with T = S U U^T S^{-1}. On the held-out second moment H the
 * error tr(A (I - T) H (I - T)^T A^T) is
 *     tr(G H) - 2 sum_i u_i^T S G H S^{-1} u_i + sum_i d_i u_i^T S^{-1} H S^{-1} u_i,
 * every rank at once from the same eigenvectors. */
#include <lapacke.h>
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec_internal.h"
#include "td_whiten.h"

/* From a tenth of the default to a hundred times it: the evidence
 * (bench/README.md, "How much calibration trusts itself") put the best
 * single value at 0.1 for rec's lines and at 1-3 for ISNet's photos and
 * det's handwriting. */
static const double grid[] = {0.01, 0.03, 0.1, 0.3, 1, 3, 10};
#define NGRID (sizeof grid / sizeof grid[0])

/* The workspace of one choice (n = Cin). */
typedef struct cv_work {
    int64_t n;
    double *g;      /* G, n x n */
    double *c;      /* the training covariance, then its eigenvectors */
    double *e;      /* its eigenvalues */
    double *h;      /* the held-out second moment about the training mean */
    double *gv, *hv, *ghv;  /* V^T G V, V^T H V, V^T G H V */
    double *k;      /* S G S, destroyed by the eigensolver */
    double *u;      /* its leading eigenvectors, n x r */
    double *d;
    double *t;      /* n x r scratch */
    double *cross;  /* r */
    double *mu;     /* the training mean */
    /* the output mode (with r_out): A^T (n x cout k, column o k + t is
     * w[o, :, t]), and per fold, in V's basis with rows (c, t): X = the
     * weight, Y = H X, both (n k) x cout; P = X^T diag(e) X, R = X^T X,
     * B = X^T Y (cout x cout); q the metric's (destroyed), its leading
     * eigenvectors uo (cout x r_out) and B uo */
    int64_t cout, kt, r_out;
    double *at, *x, *y, *pm, *rm, *bm, *q, *uo, *bu;
} cv_work;

static void work_free(cv_work *w)
{
    free(w->g);
    free(w->c);
    free(w->e);
    free(w->h);
    free(w->gv);
    free(w->hv);
    free(w->ghv);
    free(w->k);
    free(w->u);
    free(w->d);
    free(w->t);
    free(w->cross);
    free(w->mu);
    free(w->at);
    free(w->x);
    free(w->y);
    free(w->pm);
    free(w->rm);
    free(w->bm);
    free(w->q);
    free(w->uo);
    free(w->bu);
}

static td_status work_alloc(cv_work *w, int64_t n, int64_t r, int64_t cout,
                            int64_t kt, int64_t r_out, td_err_t *err)
{
    size_t nn = (size_t)n, co = (size_t)cout, nk = (size_t)(n * kt);
    td_status s;
    w->cout = cout;
    w->kt = kt;
    w->r_out = r_out;
    if ((s = td_dec_alloc(&w->at, nn, co * (size_t)kt, err)))
        return s;
    if (r_out > 0 &&
        ((s = td_dec_alloc(&w->x, nk, co, err)) ||
         (s = td_dec_alloc(&w->y, nk, co, err)) ||
         (s = td_dec_alloc(&w->pm, co, co, err)) ||
         (s = td_dec_alloc(&w->rm, co, co, err)) ||
         (s = td_dec_alloc(&w->bm, co, co, err)) ||
         (s = td_dec_alloc(&w->q, co, co, err)) ||
         (s = td_dec_alloc(&w->uo, co, (size_t)r_out, err)) ||
         (s = td_dec_alloc(&w->bu, co, (size_t)r_out, err))))
        return s;
    if ((s = td_dec_alloc(&w->g, nn, nn, err)) ||
        (s = td_dec_alloc(&w->c, nn, nn, err)) ||
        (s = td_dec_alloc(&w->e, nn, 1, err)) ||
        (s = td_dec_alloc(&w->h, nn, nn, err)) ||
        (s = td_dec_alloc(&w->gv, nn, nn, err)) ||
        (s = td_dec_alloc(&w->hv, nn, nn, err)) ||
        (s = td_dec_alloc(&w->ghv, nn, nn, err)) ||
        (s = td_dec_alloc(&w->k, nn, nn, err)) ||
        (s = td_dec_alloc(&w->u, nn, (size_t)r, err)) ||
        (s = td_dec_alloc(&w->d, (size_t)r, 1, err)) ||
        (s = td_dec_alloc(&w->t, nn, (size_t)r, err)) ||
        (s = td_dec_alloc(&w->cross, (size_t)r, 1, err)) ||
        (s = td_dec_alloc(&w->mu, nn, 1, err)))
        return s;
    w->n = n;
    return TD_OK;
}

/* A^T (w->at) and G = A^T A for w (cout x cin x k): the sum over outputs
 * and taps of the outer products of the Cin vectors. */
static td_status weight_gram(cv_work *w, const double *wt, td_err_t *err)
{
    int64_t cout = w->cout, cin = w->n, k = w->kt;
    for (int64_t o = 0; o < cout; o++)
        for (int64_t c = 0; c < cin; c++)
            for (int64_t t = 0; t < k; t++) {
                double v = wt[(o * cin + c) * k + t];
                if (!isfinite(v))
                    return td_err_set(err, TD_EINPUT, "weight value %lld is "
                                      "not finite",
                                      (long long)((o * cin + c) * k + t));
                w->at[c * cout * k + o * k + t] = v;
            }
    td_dec_gram_rows(w->at, cin, cout * k, w->g);
    return TD_OK;
}

/* out = V^T x V (x, V: n x n row-major, V's columns the eigenvectors;
 * LAPACK's column-major output read row-major is V^T). */
static void rotate(const double *vt, const double *x, double *tmp,
                   double *out, int64_t n)
{
    int ni = (int)n;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, 1.0,
                vt, ni, x, ni, 0.0, tmp, ni);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ni, ni, ni, 1.0,
                tmp, ni, vt, ni, 0.0, out, ni);
}

/* The training covariance (or moment) and the held-out second moment
 * about the training mean, for fold j held out. 0 when the other folds
 * or fold j have no weight. */
static int fold_split(cv_work *w, const td_whiten_fold *f, size_t nf,
                      size_t j, int centred)
{
    int64_t n = w->n;
    size_t nn = (size_t)(n * n);
    double tot = 0;
    memset(w->c, 0, nn * sizeof *w->c);
    memset(w->mu, 0, (size_t)n * sizeof *w->mu);
    for (size_t q = 0; q < nf; q++) {
        if (q == j || !(f[q].weight > 0))
            continue;
        tot += f[q].weight;
        for (size_t i = 0; i < nn; i++)
            w->c[i] += f[q].weight * f[q].m[i];
        for (int64_t i = 0; centred && i < n; i++)
            w->mu[i] += f[q].weight * f[q].mu[i];
    }
    if (!(tot > 0) || !(f[j].weight > 0))
        return 0;
    for (size_t i = 0; i < nn; i++)
        w->c[i] /= tot;
    for (int64_t i = 0; i < n; i++)
        w->mu[i] /= tot;
    const double *hj = f[j].m, *mj = centred ? f[j].mu : NULL;
    for (int64_t a = 0; a < n; a++)
        for (int64_t b = 0; b < n; b++) {
            double ct = 0.5 * (w->c[a * n + b] + w->c[b * n + a]);
            double hh = 0.5 * (hj[a * n + b] + hj[b * n + a]);
            if (centred) {
                ct -= w->mu[a] * w->mu[b];
                /* E_j[(x - mu)(x - mu)^T] */
                hh += -mj[a] * w->mu[b] - w->mu[a] * mj[b] +
                      w->mu[a] * w->mu[b];
            }
            w->k[a * n + b] = ct;  /* the symmetrised copy */
            w->h[a * n + b] = hh;
        }
    memcpy(w->c, w->k, nn * sizeof *w->c);
    return 1;
}

/* The output mode, once per fold (after V and V^T H V are known): X, Y,
 * P, R, B of cv_work. The output factor keeps the leading eigenvectors of
 * sum_t W_t (C + lambda I) W_t^T = P + lambda R; what it drops of the
 * held-out output, sum_t W_t H W_t^T = B, is tr(B) - tr(U^T B U). */
static void out_prep(cv_work *w)
{
    int64_t n = w->n, co = w->cout, kt = w->kt, ck = co * kt;
    int ni = (int)n, cki = (int)ck, coi = (int)co, nki = (int)(n * kt);
    /* V^T A^T and H' V^T A^T (n x cout k), reordered to rows (c, t) */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, cki, ni, 1.0,
                w->c, ni, w->at, cki, 0.0, w->y, cki);
    for (int64_t c = 0; c < n; c++)
        for (int64_t o = 0; o < co; o++)
            for (int64_t t = 0; t < kt; t++)
                w->x[(c * kt + t) * co + o] = w->y[c * ck + o * kt + t];
    /* Y's rows (c, t) = sum_c' H'[c][c'] X[(c', t)]: per tap */
    for (int64_t t = 0; t < kt; t++)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, coi, ni,
                    1.0, w->hv, ni, w->x + t * co, (int)(kt * co), 0.0,
                    w->y + t * co, (int)(kt * co));
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, coi, coi, nki, 1.0,
                w->x, coi, w->y, coi, 0.0, w->bm, coi);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, coi, nki, 1.0, w->x,
                coi, 0.0, w->rm, coi);
    /* P: X's rows scaled by sqrt(e_c), into y (no longer needed) */
    for (int64_t c = 0; c < n; c++) {
        double sc = sqrt(fmax(w->e[c], 0));
        for (int64_t t = 0; t < kt; t++)
            for (int64_t o = 0; o < co; o++)
                w->y[(c * kt + t) * co + o] = sc * w->x[(c * kt + t) * co + o];
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, coi, nki, 1.0, w->y,
                coi, 0.0, w->pm, coi);
}

/* The output mode's held-out error at lambda, over tr(B). */
static td_status out_error(cv_work *w, double lambda, double *out,
                           td_err_t *err)
{
    int64_t co = w->cout, r = w->r_out;
    int coi = (int)co, ri = (int)r;
    for (int64_t a = 0; a < co; a++)
        for (int64_t b = a; b < co; b++) {
            double v = w->pm[a * co + b] + lambda * w->rm[a * co + b];
            w->q[a * co + b] = w->q[b * co + a] = v;
        }
    td_status st = td_dec_sym_leading(w->q, co, r, w->uo, NULL, err);
    if (st)
        return st;
    double kept = 0, all = 0;
    /* B is stored whole (a product, not a syrk) */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, coi, ri, coi, 1.0,
                w->bm, coi, w->uo, ri, 0.0, w->bu, ri);
    for (int64_t a = 0; a < co; a++) {
        all += w->bm[a * co + a];
        for (int64_t i = 0; i < r; i++)
            kept += w->uo[a * r + i] * w->bu[a * r + i];
    }
    *out = fmax(all - kept, 0);
    return TD_OK;
}

/* Adds, for each rank in ranks, the held-out error of every grid value to
 * err_sum[g * nr + q] (with the output mode's at r_out added); base_sum
 * gets tr(G H). */
static td_status fold_errors(cv_work *w, const int64_t *ranks, size_t nr,
                             double *err_sum, double *base_sum, td_err_t *err)
{
    int64_t n = w->n, r = ranks[nr - 1];
    int ni = (int)n, ri = (int)r;
    double trace = 0;
    for (int64_t i = 0; i < n; i++)
        trace += w->c[i * n + i];
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', ni, w->c, ni,
                                     w->e);
    if (info != 0)
        return td_err_set(err, TD_ENUMERIC, "cross-validation: LAPACK dsyevd "
                          "failed (info %d)", (int)info);
    /* w->c read row-major is V^T */
    rotate(w->c, w->g, w->k, w->gv, n);
    rotate(w->c, w->h, w->k, w->hv, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, 1.0,
                w->gv, ni, w->hv, ni, 0.0, w->ghv, ni);
    double base = 0;
    for (int64_t i = 0; i < n; i++)
        base += w->ghv[i * n + i];
    if (!(base > 0) || !isfinite(base))
        return TD_OK;  /* the fold gives this layer no output: no say */
    *base_sum += base;
    if (w->r_out > 0)
        out_prep(w);
    for (size_t gi = 0; gi < NGRID; gi++) {
        double lambda = trace > 0 ? grid[gi] * trace / (double)n : 1.0;
        if (!(lambda > 0))
            lambda = 1.0;
        double e_out = 0;
        if (w->r_out > 0) {
            td_status st = out_error(w, lambda, &e_out, err);
            if (st)
                return st;
        }
        double *s = w->mu;  /* the training mean is no longer needed */
        for (int64_t i = 0; i < n; i++)
            s[i] = sqrt(fmax(w->e[i], 0) + lambda);
        for (int64_t a = 0; a < n; a++)
            for (int64_t b = 0; b < n; b++)
                w->k[a * n + b] = s[a] * w->gv[a * n + b] * s[b];
        td_status st = td_dec_sym_leading(w->k, n, r, w->u, w->d, err);
        if (st)
            return st;
        /* u_i^T S GH S^{-1} u_i: t = (S GH S^{-1}) U */
        for (int64_t a = 0; a < n; a++)
            for (int64_t b = 0; b < n; b++)
                w->k[a * n + b] = s[a] * w->ghv[a * n + b] / s[b];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, ri, ni,
                    1.0, w->k, ni, w->u, ri, 0.0, w->t, ri);
        double *cross = w->cross;
        for (int64_t i = 0; i < r; i++) {
            cross[i] = 0;
            for (int64_t a = 0; a < n; a++)
                cross[i] += w->u[a * r + i] * w->t[a * r + i];
        }
        for (int64_t a = 0; a < n; a++)
            for (int64_t b = 0; b < n; b++)
                w->k[a * n + b] = w->hv[a * n + b] / (s[a] * s[b]);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, ri, ni,
                    1.0, w->k, ni, w->u, ri, 0.0, w->t, ri);
        double e = base;
        size_t q = 0;
        for (int64_t i = 0; i < r && q < nr; i++) {
            double quad = 0;
            for (int64_t a = 0; a < n; a++)
                quad += w->u[a * r + i] * w->t[a * r + i];
            e += -2 * cross[i] + w->d[i] * quad;
            while (q < nr && ranks[q] == i + 1)
                err_sum[gi * nr + q++] += fmax(e, 0) + e_out;
        }
    }
    return TD_OK;
}

td_status td_whiten_cv_errors(const double *wt, int64_t cout, int64_t cin,
                              int64_t k, const td_whiten_fold *f, size_t nf,
                              int centred, const int64_t *ranks, size_t nr,
                              int64_t r_out, double *rel, td_err_t *err)
{
    if (cin < 1 || cin > 46340 || cout < 1 || cout > 46340 || k < 1 ||
        nr < 1 || r_out < 0 || r_out > cout)
        return td_err_set(err, TD_EINPUT, "cross-validation: bad size");
    if (r_out == cout)
        r_out = 0;  /* the output mode whole: nothing dropped */
    for (size_t q = 0; q < nr; q++)
        if (ranks[q] < 1 || ranks[q] > cin || (q && ranks[q] <= ranks[q - 1]))
            return td_err_set(err, TD_EINPUT, "cross-validation: ranks must "
                              "rise within 1..%lld", (long long)cin);
    for (size_t q = 0; q < nf; q++)
        if (f[q].weight > 0 && (!f[q].m || (centred && !f[q].mu)))
            return td_err_set(err, TD_EINPUT, "cross-validation: fold %zu "
                              "has no statistics", q);
    cv_work w = {0};
    double base = 0;
    size_t ne = NGRID * nr;
    double *sum = calloc(ne, sizeof *sum);
    td_status s = sum ? work_alloc(&w, cin, ranks[nr - 1], cout, k, r_out,
                                   err)
                      : td_err_set(err, TD_ENOMEM, "out of memory");
    if (!s)
        s = weight_gram(&w, wt, err);
    for (size_t j = 0; !s && j < nf; j++)
        if (fold_split(&w, f, nf, j, centred))
            s = fold_errors(&w, ranks, nr, sum, &base, err);
    for (size_t q = 0; !s && q < ne; q++)
        rel[q] = base > 0 ? sum[q] / base : 0;
    free(sum);
    work_free(&w);
    return s;
}

size_t td_whiten_cv_grid(const double **values)
{
    *values = grid;
    return NGRID;
}

td_status td_whiten_choose(const double *wt, int64_t cout, int64_t cin,
                           int64_t k, const td_whiten_fold *f, size_t nf,
                           int centred, int64_t r_out, int64_t r_in,
                           double *rel_lambda, int *chosen, td_err_t *err)
{
    *rel_lambda = TD_WHITEN_REL_LAMBDA;
    *chosen = 0;
    size_t used = 0;
    double total = 0, largest = 0;
    for (size_t q = 0; q < nf; q++) {
        used += f[q].weight > 0;
        total += fmax(f[q].weight, 0);
        largest = fmax(largest, f[q].weight);
    }
    /* Every training set must hold more positions than the input has
     * channels. From fewer (a layer after global pooling sees one position
     * per input) its moment has lower rank than the input, the few
     * held-out positions share its mean's direction, and every candidate
     * scores alike: PP-OCR cls's classifier chose 0.01 and was cut to what
     * its few inputs span. */
    if (used < 2 || !(total - largest > (double)cin))
        return TD_OK;
    /* the ranks given; without them, those a budget of 0.5-0.75 of the
     * parameters gives a layer's input side, of what its rank allows */
    int64_t top = cin < cout * k ? cin : cout * k;
    int64_t ranks[2] = {top / 4 > 0 ? top / 4 : 1, top / 2 > 0 ? top / 2 : 1};
    size_t nr = ranks[1] > ranks[0] ? 2 : 1;
    if (nr == 1)
        ranks[0] = ranks[1];
    if (r_in > 0) {
        ranks[0] = r_in < cin ? r_in : cin;
        nr = 1;
    }
    if (r_out < 0 || r_out >= cout)
        r_out = 0;
    double rel[NGRID * 2];
    td_status s = td_whiten_cv_errors(wt, cout, cin, k, f, nf, centred,
                                      ranks, nr, r_out, rel, err);
    if (s)
        return s;
    double best = HUGE_VAL;
    for (size_t g = 0; g < NGRID; g++) {
        double score = 0;
        for (size_t q = 0; q < nr; q++)
            score += rel[g * nr + q];
        if (score < best) {
            best = score;
            *rel_lambda = grid[g];
        }
    }
    *chosen = 1;
    return TD_OK;
}
