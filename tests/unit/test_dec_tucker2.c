/* Tucker-2 (HOSVD + HOOI), its spectra and the tolerance search. */
#include "decompose/td_decompose.h"
#include "tcheck.h"
#include "test_dec_common.h"

/* W[i,j,q] = sum_{a,b} U[i,a] G[a,b,q] V[j,b], naive. */
static void t2_full(const double *u, const double *g, const double *v,
                    int64_t co, int64_t ci, int64_t k, int64_t ro, int64_t ri,
                    double *w)
{
    for (int64_t i = 0; i < co; i++)
        for (int64_t j = 0; j < ci; j++)
            for (int64_t q = 0; q < k; q++) {
                double s = 0;
                for (int64_t a = 0; a < ro; a++)
                    for (int64_t b = 0; b < ri; b++)
                        s += u[i * ro + a] * g[(a * ri + b) * k + q] * v[j * ri + b];
                w[(i * ci + j) * k + q] = s;
            }
}

static double orth_defect(const double *u, int64_t n, int64_t r)
{
    double worst = 0;
    for (int64_t a = 0; a < r; a++)
        for (int64_t b = 0; b < r; b++) {
            double s = 0;
            for (int64_t i = 0; i < n; i++)
                s += u[i * r + a] * u[i * r + b];
            s -= a == b;
            if (fabs(s) > worst)
                worst = fabs(s);
        }
    return worst;
}

/* The reported error must be the error of the returned factors. */
static double t2_check_err(const double *w, const td_tucker2_t *t)
{
    size_t n = (size_t)(t->cout * t->cin * t->k);
    double *rec = malloc(n * sizeof *rec);
    t2_full(t->u_out, t->core, t->u_in, t->cout, t->cin, t->k, t->r_out,
            t->r_in, rec);
    double e = trel_diff(w, rec, n);
    free(rec);
    return e;
}

static void test_exact(void)
{
    trng_t r = {5};
    const int64_t co = 10, ci = 12, k = 9, ro = 3, ri = 4;
    double *u = trand(&r, co * ro), *v = trand(&r, ci * ri);
    double *g = trand(&r, ro * ri * k), *w = malloc(co * ci * k * sizeof *w);
    t2_full(u, g, v, co, ci, k, ro, ri, w);
    td_err_t err = {0};
    td_tucker2_t t = {0};
    CHECK(td_tucker2(w, co, ci, k, ro, ri, NULL, &t, &err) == TD_OK);
    CHECK_MSG(t.rel_error < 1e-10, "exact multilinear rank: %g", t.rel_error);
    CHECK(fabs(t2_check_err(w, &t) - t.rel_error) < 1e-12);
    CHECK(orth_defect(t.u_out, co, ro) < 1e-12);
    CHECK(orth_defect(t.u_in, ci, ri) < 1e-12);
    td_tucker2_free(&t);
    /* tol 0 recovers the exact multilinear ranks */
    CHECK(td_tucker2_for_tol(w, co, ci, k, 0.0, NULL, &t, &err) == TD_OK);
    CHECK_MSG(t.r_out == ro && t.r_in == ri, "ranks %lld %lld",
              (long long)t.r_out, (long long)t.r_in);
    CHECK(t.rel_error < 1e-10);
    td_tucker2_free(&t);
    /* spectra: energy of each unfolding is ||W||^2, exact rank visible */
    double s0[10], s1[12], nw = tnorm(w, co * ci * k), e0 = 0, e1 = 0;
    CHECK(td_tucker2_spectra(w, co, ci, k, s0, s1, &err) == TD_OK);
    for (int i = 0; i < co; i++)
        e0 += s0[i] * s0[i];
    for (int i = 0; i < ci; i++)
        e1 += s1[i] * s1[i];
    CHECK(fabs(e0 - nw * nw) < 1e-10 * nw * nw);
    CHECK(fabs(e1 - nw * nw) < 1e-10 * nw * nw);
    CHECK(s0[ro] < 1e-12 * s0[0] && s0[ro - 1] > 1e-3 * s0[0]);
    CHECK(s1[ri] < 1e-12 * s1[0] && s1[ri - 1] > 1e-3 * s1[0]);
    CHECK(td_tucker2_spectra(w, co, ci, k, NULL, s1, &err) == TD_OK);
    free(u);
    free(v);
    free(g);
    free(w);
}

static void test_monotone_and_hooi(void)
{
    trng_t r = {6};
    const int64_t co = 8, ci = 7, k = 5;
    double *w = trand(&r, co * ci * k);
    td_err_t err = {0};
    td_tucker2_t t = {0};
    double prev = 2.0;
    for (int64_t q = 1; q <= 9; q++) {
        CHECK(td_tucker2(w, co, ci, k, q, q, NULL, &t, &err) == TD_OK);
        CHECK(t.r_out == (q < co ? q : co) && t.r_in == (q < ci ? q : ci));
        CHECK_MSG(t.rel_error <= prev + 1e-12, "rank %lld: %g > %g",
                  (long long)q, t.rel_error, prev);
        CHECK(fabs(t2_check_err(w, &t) - t.rel_error) < 1e-12);
        prev = t.rel_error;
        td_tucker2_free(&t);
    }
    CHECK(prev < 1e-12); /* full ranks are exact */
    for (int64_t a = 1; a <= co; a++) {
        double pb = 2.0;
        for (int64_t b = 1; b <= ci; b++) {
            CHECK(td_tucker2(w, co, ci, k, a, b, NULL, &t, &err) == TD_OK);
            CHECK(t.rel_error <= pb + 1e-12);
            pb = t.rel_error;
            td_tucker2_free(&t);
        }
    }
    /* more HOOI sweeps never lose fit against one sweep */
    td_tucker2_opts_t one = {.max_sweeps = 1, .fit_tol = 1e-30},
                      many = {.max_sweeps = 200, .fit_tol = 1e-14};
    td_tucker2_t t1 = {0}, t2 = {0};
    CHECK(td_tucker2(w, co, ci, k, 3, 2, &one, &t1, &err) == TD_OK);
    CHECK(td_tucker2(w, co, ci, k, 3, 2, &many, &t2, &err) == TD_OK);
    CHECK(t1.sweeps == 1);
    CHECK_MSG(t2.sweeps > 1 && t2.sweeps < 200, "sweeps %d", t2.sweeps);
    CHECK_MSG(t2.rel_error < t1.rel_error - 1e-9, "HOOI gained nothing: %.12g "
              "vs %.12g", t2.rel_error, t1.rel_error);
    /* converged: a further sweep from scratch with a bigger cap agrees */
    td_tucker2_opts_t more = {.max_sweeps = 400, .fit_tol = 1e-15};
    td_tucker2_t t3 = {0};
    CHECK(td_tucker2(w, co, ci, k, 3, 2, &more, &t3, &err) == TD_OK);
    CHECK(fabs(t3.rel_error - t2.rel_error) < 1e-9);
    td_tucker2_free(&t3);
    td_tucker2_free(&t1);
    td_tucker2_free(&t2);
    free(w);
}

/* The chosen ranks meet tol, and no pair with fewer parameters does. */
static void test_for_tol_optimal(void)
{
    trng_t r = {7};
    const int64_t co = 6, ci = 5, k = 3;
    /* decaying structure so that several ranks are interesting */
    double *w = trand(&r, co * ci * k);
    for (int64_t i = 0; i < co; i++)
        for (int64_t j = 0; j < ci; j++)
            for (int64_t q = 0; q < k; q++)
                w[(i * ci + j) * k + q] *= 1.0 / (1.0 + i * i) + 0.3 / (1.0 + j);
    double eps[] = {0.6, 0.4, 0.25, 0.1, 0.05, 0.01, 1e-4};
    td_err_t err = {0};
    for (size_t e = 0; e < sizeof eps / sizeof *eps; e++) {
        td_tucker2_t t = {0};
        CHECK(td_tucker2_for_tol(w, co, ci, k, eps[e], NULL, &t, &err) == TD_OK);
        CHECK_MSG(t.rel_error <= eps[e], "eps %g: %g", eps[e], t.rel_error);
        CHECK(fabs(t2_check_err(w, &t) - t.rel_error) < 1e-12);
        int64_t p = co * t.r_out + t.r_out * t.r_in * k + t.r_in * ci;
        for (int64_t a = 1; a <= co; a++)
            for (int64_t b = 1; b <= ci; b++) {
                if (co * a + a * b * k + b * ci >= p)
                    continue;
                td_tucker2_t c = {0};
                CHECK(td_tucker2(w, co, ci, k, a, b, NULL, &c, &err) == TD_OK);
                CHECK_MSG(c.rel_error > eps[e], "eps %g: (%lld,%lld) cheaper "
                          "than (%lld,%lld) and meets it", eps[e], (long long)a,
                          (long long)b, (long long)t.r_out, (long long)t.r_in);
                td_tucker2_free(&c);
            }
        td_tucker2_free(&t);
    }
    free(w);
}

static void test_edges(void)
{
    td_err_t err = {0};
    td_tucker2_t t = {0};
    double z[2 * 3 * 4] = {0};
    CHECK(td_tucker2(z, 2, 3, 4, 5, 5, NULL, &t, &err) == TD_OK);
    CHECK(t.r_out == 2 && t.r_in == 3 && t.rel_error == 0.0);
    td_tucker2_free(&t);
    CHECK(td_tucker2_for_tol(z, 2, 3, 4, 0.1, NULL, &t, &err) == TD_OK);
    CHECK(t.rel_error == 0.0 && t.r_out == 1 && t.r_in == 1);
    td_tucker2_free(&t);
    z[7] = NAN;
    CHECK(td_tucker2(z, 2, 3, 4, 1, 1, NULL, &t, &err) == TD_ENUMERIC);
    z[7] = -INFINITY;
    CHECK(td_tucker2_for_tol(z, 2, 3, 4, 0.1, NULL, &t, &err) == TD_ENUMERIC);
    double s[2];
    CHECK(td_tucker2_spectra(z, 2, 3, 4, s, NULL, &err) == TD_ENUMERIC);
    z[7] = 0;
    CHECK(td_tucker2(z, 2, 3, 4, 0, 1, NULL, &t, &err) == TD_EINPUT);
    td_tucker2_free(&t);
    /* more channels than columns in an unfolding: the rank caps at the
     * unfolding's rank (2 here), still exact */
    trng_t r = {8};
    double *w = trand(&r, 9 * 2 * 1);
    CHECK(td_tucker2(w, 9, 2, 1, 9, 2, NULL, &t, &err) == TD_OK);
    CHECK(t.r_out == 2 && t.r_in == 2);
    CHECK(t.rel_error < 1e-12 && orth_defect(t.u_out, 9, 2) < 1e-12);
    td_tucker2_free(&t);
    CHECK(td_tucker2_for_tol(w, 9, 2, 1, 0.0, NULL, &t, &err) == TD_OK);
    CHECK(t.rel_error < 1e-12 && t.r_out == 2);
    td_tucker2_free(&t);
    free(w);
}

/* Kernels with a channel dimension >= 128 run their HOOI sweeps in single
 * precision (at fit tolerances >= 1e-5). The result must match the double
 * sweeps to well within the truncation error, the factors must be
 * orthonormal and the reported error must be that of the returned factors,
 * on both sides of the 1e-3 line where the error comes from ||W||^2 -
 * ||core||^2 instead of the reconstruction; and runs repeat bit for bit. */
static void test_single_sweeps(void)
{
    trng_t r = {11};
    const int64_t co = 130, ci = 40, k = 3;
    double *w = trand(&r, co * ci * k);
    td_err_t err = {0};
    td_tucker2_opts_t fast = {.max_sweeps = 10, .fit_tol = 1e-4},
                      dbl = {.max_sweeps = 10, .fit_tol = 1e-4, .double_sweeps = 1};
    td_tucker2_t a = {0}, b = {0}, c = {0};
    CHECK(td_tucker2(w, co, ci, k, 20, 10, &fast, &a, &err) == TD_OK);
    CHECK(td_tucker2(w, co, ci, k, 20, 10, &dbl, &b, &err) == TD_OK);
    CHECK(td_tucker2(w, co, ci, k, 20, 10, &fast, &c, &err) == TD_OK);
    CHECK_MSG(fabs(a.rel_error - b.rel_error) < 1e-6 * b.rel_error,
              "single %.12g vs double %.12g", a.rel_error, b.rel_error);
    CHECK(fabs(t2_check_err(w, &a) - a.rel_error) < 1e-12);
    CHECK(orth_defect(a.u_out, co, 20) < 1e-12 && orth_defect(a.u_in, ci, 10) < 1e-12);
    CHECK(a.rel_error == c.rel_error &&
          !memcmp(a.core, c.core, (size_t)(20 * 10 * k) * sizeof *a.core));
    td_tucker2_free(&a);
    td_tucker2_free(&b);
    td_tucker2_free(&c);
    /* near-exact: rank (6, 5) plus noise of 1e-6, error far below 1e-3 */
    double *u = trand(&r, co * 6), *v = trand(&r, ci * 5), *g = trand(&r, 6 * 5 * k);
    double *w2 = malloc((size_t)(co * ci * k) * sizeof *w2);
    t2_full(u, g, v, co, ci, k, 6, 5, w2);
    double n2 = 0;
    for (int64_t i = 0; i < co * ci * k; i++)
        n2 += w2[i] * w2[i];
    double *noise = trand(&r, co * ci * k);
    for (int64_t i = 0; i < co * ci * k; i++)
        w2[i] += 1e-6 * sqrt(n2 / (double)(co * ci * k)) * noise[i];
    CHECK(td_tucker2(w2, co, ci, k, 6, 5, &fast, &a, &err) == TD_OK);
    CHECK_MSG(a.rel_error < 1e-5 && a.rel_error > 0, "%g", a.rel_error);
    CHECK_MSG(fabs(t2_check_err(w2, &a) - a.rel_error) < 1e-12 * (1 + a.rel_error),
              "reported %.15g, reconstruction %.15g", a.rel_error, t2_check_err(w2, &a));
    td_tucker2_free(&a);
    /* one output channel, 300 inputs: the mode-1 unfolding has rank 9, so
     * r_in = 150 caps at 9 and the result is exact to double precision
     * (the near-exact fit is redone in double) */
    double *w3 = trand(&r, 300 * 9);
    CHECK(td_tucker2(w3, 1, 300, 9, 1, 150, &fast, &a, &err) == TD_OK);
    CHECK_MSG(a.r_in == 9 && a.rel_error < 1e-13, "r_in %lld err %g",
              (long long)a.r_in, a.rel_error);
    td_tucker2_free(&a);
    free(w3);
    free(u);
    free(v);
    free(g);
    free(w2);
    free(noise);
    free(w);
}

/* The single-precision sweeps: fit monotone over sweeps (each run with a
 * larger sweep cap continues the same trajectory), exact recovery of a
 * known multilinear rank, and unfoldings with fewer columns than rows (the
 * eigenproblem is solved on the small Gram of the columns) agree with the
 * double sweeps. */
static void test_single_paths(void)
{
    trng_t r = {13};
    const int64_t co = 140, ci = 60, k = 3;
    double *w = trand(&r, co * ci * k);
    for (int64_t o = 0; o < co; o++)
        for (int64_t q = 0; q < ci * k; q++)
            w[o * ci * k + q] *= 1.0 / (1.0 + 0.05 * (double)o);
    td_err_t err = {0};
    double prev = 2.0;
    int last = 0;
    for (int s = 2; s <= 8; s++) {
        td_tucker2_opts_t o = {.max_sweeps = s, .fit_tol = 1e-5};
        td_tucker2_t t = {0};
        CHECK(td_tucker2(w, co, ci, k, 30, 20, &o, &t, &err) == TD_OK);
        CHECK(t.sweeps <= s && t.sweeps >= last);
        CHECK_MSG(t.rel_error <= prev * (1 + 1e-7), "sweeps %d: %.12g > %.12g",
                  s, t.rel_error, prev);
        CHECK(fabs(t2_check_err(w, &t) - t.rel_error) < 1e-12);
        CHECK(orth_defect(t.u_out, co, 30) < 1e-12 && orth_defect(t.u_in, ci, 20) < 1e-12);
        prev = t.rel_error;
        last = t.sweeps;
        td_tucker2_free(&t);
    }
    CHECK_MSG(last > 2, "the cap never mattered: %d sweeps", last);
    /* exact multilinear rank (7, 4): recovered to double precision */
    double *u = trand(&r, co * 7), *v = trand(&r, ci * 4), *g = trand(&r, 7 * 4 * k);
    t2_full(u, g, v, co, ci, k, 7, 4, w);
    td_tucker2_opts_t fast = {.max_sweeps = 10, .fit_tol = 1e-4},
                      dbl = {.max_sweeps = 10, .fit_tol = 1e-4, .double_sweeps = 1};
    td_tucker2_t a = {0}, b = {0};
    CHECK(td_tucker2(w, co, ci, k, 7, 4, &fast, &a, &err) == TD_OK);
    CHECK_MSG(a.rel_error < 1e-12, "%g", a.rel_error);
    td_tucker2_free(&a);
    /* 3 x 200 x 4: the mode-1 unfolding is 200 x 12 */
    double *w2 = trand(&r, 3 * 200 * 4);
    CHECK(td_tucker2(w2, 3, 200, 4, 2, 7, &fast, &a, &err) == TD_OK);
    CHECK(td_tucker2(w2, 3, 200, 4, 2, 7, &dbl, &b, &err) == TD_OK);
    CHECK_MSG(fabs(a.rel_error - b.rel_error) < 1e-6 * b.rel_error,
              "single %.12g vs double %.12g", a.rel_error, b.rel_error);
    CHECK(fabs(t2_check_err(w2, &a) - a.rel_error) < 1e-12);
    CHECK(orth_defect(a.u_out, 3, 2) < 1e-12 && orth_defect(a.u_in, 200, 7) < 1e-12);
    td_tucker2_free(&a);
    td_tucker2_free(&b);
    free(w2);
    free(u);
    free(v);
    free(g);
    free(w);
}

/* The Gram-eigenvalue spectra agree with the SVD ones to ~1e-8 of the
 * largest value, on a kernel with a decaying spectrum. */
static void test_spectra_gram(void)
{
    trng_t r = {12};
    const int64_t co = 24, ci = 40, k = 9;
    double *w = trand(&r, co * ci * k);
    for (int64_t o = 0; o < co; o++)
        for (int64_t q = 0; q < ci * k; q++)
            w[o * ci * k + q] *= pow(0.7, (double)o);
    double a0[24], a1[40], b0[24], b1[40];
    td_err_t err = {0};
    CHECK(td_tucker2_spectra(w, co, ci, k, a0, a1, &err) == TD_OK);
    CHECK(td_tucker2_spectra_gram(w, co, ci, k, b0, b1, &err) == TD_OK);
    for (int i = 0; i < 24; i++)
        CHECK_MSG(fabs(a0[i] - b0[i]) < 1e-8 * a0[0], "s0[%d] %.15g vs %.15g", i, a0[i], b0[i]);
    for (int i = 0; i < 40; i++)
        CHECK_MSG(fabs(a1[i] - b1[i]) < 1e-8 * a1[0], "s1[%d] %.15g vs %.15g", i, a1[i], b1[i]);
    free(w);
}

int main(void)
{
    test_exact();
    test_monotone_and_hooi();
    test_for_tol_optimal();
    test_edges();
    test_single_sweeps();
    test_single_paths();
    test_spectra_gram();
    return TCHECK_DONE();
}
