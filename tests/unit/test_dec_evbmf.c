/* EVBMF rank: signal + noise, pure noise, and the threshold formula. */
#include "decompose/dec_internal.h"
#include "tcheck.h"
#include "test_dec_common.h"

/* L x M: sum_k s_k u_k v_k^T with orthogonal-ish random directions plus
 * N(0, sigma^2) noise; returns its singular values via the library SVD. */
static void signal_plus_noise(trng_t *r, int64_t L, int64_t M, int nsig,
                              const double *amp, double sigma, double *sv)
{
    double *a = calloc((size_t)(L * M), sizeof *a);
    for (int k = 0; k < nsig; k++) {
        double *u = trand(r, L), *v = trand(r, M);
        double nu = tnorm(u, L), nv = tnorm(v, M);
        for (int64_t i = 0; i < L; i++)
            for (int64_t j = 0; j < M; j++)
                a[i * M + j] += amp[k] * u[i] * v[j] / (nu * nv);
        free(u);
        free(v);
    }
    for (int64_t i = 0; i < L * M; i++)
        a[i] += sigma * trng_gauss(r);
    td_err_t err = {0};
    CHECK(td_singular_values(a, L, M, sv, &err) == TD_OK);
    free(a);
}

static int64_t count_above(const double *sv, int64_t n, double thr)
{
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++)
        c += sv[i] > thr;
    return c;
}

static void test_threshold_formula(void)
{
    /* alpha = 1: tau_bar solves 2 log(1 + tau) = tau, about 2.5129
     * (the paper's constant), so x_bar = (1 + tau)^2 / tau. */
    double tau = 2.5128624;
    double want = sqrt(100.0 * 0.25 * (1 + tau) * (1 + 1 / tau));
    double got = td_evbmf_threshold(100, 100, 0.25);
    CHECK_MSG(fabs(got - want) < 1e-6 * want, "%.10g vs %.10g", got, want);
    /* general alpha: recover tau from the threshold and check it solves
     * log(tau + 1) + alpha log(tau/alpha + 1) = tau */
    int64_t dims[][2] = {{50, 40}, {10, 300}, {64, 576}, {7, 8}};
    for (size_t k = 0; k < sizeof dims / sizeof *dims; k++) {
        int64_t L = dims[k][0] < dims[k][1] ? dims[k][0] : dims[k][1];
        int64_t M = dims[k][0] + dims[k][1] - L;
        double alpha = (double)L / (double)M, s2 = 0.7;
        double thr = td_evbmf_threshold(dims[k][0], dims[k][1], s2);
        double xb = thr * thr / (M * s2);
        /* x_bar = (1+t)(1+a/t)  =>  t^2 + (1 + a - x_bar) t + a = 0 */
        double b = 1 + alpha - xb;
        double t = 0.5 * (-b + sqrt(b * b - 4 * alpha));
        double res = log(t + 1) + alpha * log(t / alpha + 1) - t;
        CHECK_MSG(fabs(res) < 1e-9, "alpha %g: residual %g", alpha, res);
        CHECK(fabs(t / sqrt(alpha) - 2.5129) < 0.3); /* the paper's approx */
        CHECK(td_evbmf_threshold(dims[k][1], dims[k][0], s2) == thr);
    }
}

static void test_cases(void)
{
    trng_t r = {31};
    double sv[40], s2 = -1;
    double amp3[3] = {12.0, 9.0, 6.0};
    signal_plus_noise(&r, 50, 40, 3, amp3, 0.1, sv);
    int64_t rk = td_evbmf_rank(sv, 50, 40, &s2);
    CHECK_MSG(rk == 3, "rank-3 signal: got %lld", (long long)rk);
    CHECK_MSG(fabs(s2 - 0.01) < 0.2 * 0.01, "sigma2 %g (true 0.01)", s2);
    /* the count is exactly the values above the threshold at that sigma2 */
    CHECK(rk == count_above(sv, 40, td_evbmf_threshold(50, 40, s2)));
    /* transposed shape gives the same answer */
    CHECK(td_evbmf_rank(sv, 40, 50, NULL) == 3);

    for (int k = 0; k < 5; k++) {
        signal_plus_noise(&r, 50, 40, 0, NULL, 1.0 + k, sv);
        rk = td_evbmf_rank(sv, 50, 40, &s2);
        CHECK_MSG(rk == 0, "pure noise %d: rank %lld", k, (long long)rk);
        double want = (1.0 + k) * (1.0 + k);
        CHECK_MSG(fabs(s2 - want) < 0.2 * want, "noise var %g vs %g", s2, want);
    }
    /* a component far below the noise edge is not counted */
    double amp2[2] = {20.0, 0.3};
    signal_plus_noise(&r, 50, 40, 2, amp2, 0.2, sv);
    CHECK(td_evbmf_rank(sv, 50, 40, NULL) == 1);
    /* degenerate inputs */
    double z[4] = {0, 0, 0, 0};
    CHECK(td_evbmf_rank(z, 4, 6, &s2) == 0 && s2 == 0.0);
    CHECK(td_evbmf_rank(NULL, 4, 6, NULL) == 0);
    double one[1] = {3.0};
    CHECK(td_evbmf_rank(one, 1, 1, NULL) <= 1);
}

/* A fixed spectrum whose EVBMF answer was computed independently
 * (tests/unit/gen_evbmf.py: the paper's Omega(sigma2) minimised in NumPy
 * with its own searches). L x M = 20 x 30, alpha = 2/3: tau_bar =
 * 2.0540318, x_bar = (1 + tau_bar)(1 + alpha/tau_bar) = 4.0452634.
 * With the fourth value 9: sigma2 = 0.60074958, threshold
 * sqrt(30 x 0.60075 x 4.04526) = 8.5385 < 9, rank 4. With 8: sigma2 =
 * 0.66684658, threshold 8.9959 > 8, rank 3 (the noise estimate rises as
 * the fourth component joins the noise, so the threshold moves too). */
static void test_hand_checked(void)
{
    struct { double fourth, sigma2; int64_t rank; } want[] = {
        {9.0, 0.6007495828, 4},
        {8.0, 0.6668465835, 3},
    };
    for (size_t c = 0; c < 2; c++) {
        double g[20] = {30.0, 22.0, 15.0, want[c].fourth};
        for (int i = 0; i < 16; i++)  /* linspace(6, 1, 16) */
            g[4 + i] = 6.0 - 5.0 * i / 15.0;
        double s2 = -1;
        int64_t rk = td_evbmf_rank(g, 20, 30, &s2);
        CHECK_MSG(rk == want[c].rank, "fourth %g: rank %lld, want %lld",
                  want[c].fourth, (long long)rk, (long long)want[c].rank);
        CHECK_MSG(fabs(s2 - want[c].sigma2) < 1e-6 * want[c].sigma2,
                  "fourth %g: sigma2 %.10g, want %.10g", want[c].fourth, s2,
                  want[c].sigma2);
        CHECK(td_evbmf_rank(g, 30, 20, NULL) == want[c].rank);
    }
}

int main(void)
{
    test_hand_checked();
    test_threshold_formula();
    test_cases();
    return TCHECK_DONE();
}
