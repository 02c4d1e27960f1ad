/* Empirical variational Bayesian matrix factorisation rank (Nakajima,
 * Sugiyama, Babacan & Tomioka 2013, JMLR 14, "Global analytic solution of
 * fully-observed variational Bayesian matrix factorization").
 *
 * For an L x M matrix (L <= M, alpha = L/M) with singular values gamma_h,
 * the EVB solution keeps component h iff gamma_h > sigma sqrt(M x_bar),
 * x_bar = (1 + tau_bar)(1 + alpha/tau_bar), where tau_bar > 0 solves
 * log(tau + 1) + alpha log(tau/alpha + 1) - tau = 0 (Theorem 13; tau_bar ~
 * 2.5129 sqrt(alpha)). The noise variance minimises (Theorem 15)
 *   Omega(sigma^2) = sum_h psi0(x_h) + sum_{x_h > x_bar} psi1(x_h),
 *   x_h = gamma_h^2 / (M sigma^2), psi0(x) = x - log x,
 *   psi1(x) = log(tau(x) + 1) + alpha log(tau(x)/alpha + 1) - tau(x),
 *   tau(x) = (x - (1+alpha) + sqrt((x - (1+alpha))^2 - 4 alpha)) / 2,
 * over the range given by Corollary 16:
 *   max(gamma_{H+1}^2 / (M x_bar), sum_{h>H} gamma_h^2 / (M (L - H)))
 *     <= sigma^2 <= sum_h gamma_h^2 / (L M),
 * with H = ceil(L / (1 + alpha)) - 1 the largest possible EVB rank.
 * Omega need not be unimodal there, so a log-spaced scan locates the basin
 * and golden-section search refines it. */
#include <math.h>

#include "dec_internal.h"

#define EVB_GRID 400

static double tau_eq(double tau, double alpha)
{
    return log1p(tau) + alpha * log1p(tau / alpha) - tau;
}

/* tau_eq rises from 0 (slope 1 at tau = 0) and then falls to -inf, so its
 * positive root is bracketed and bisection is safe. */
static double tau_bar(double alpha)
{
    double lo = 1e-6 * sqrt(alpha), hi = 1.0;
    while (tau_eq(hi, alpha) > 0.0)
        hi *= 2.0;
    for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (tau_eq(mid, alpha) > 0.0)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

static double x_bar(double alpha)
{
    double t = tau_bar(alpha);
    return (1.0 + t) * (1.0 + alpha / t);
}

double td_evbmf_threshold(int64_t L, int64_t M, double sigma2)
{
    if (L <= 0 || M <= 0 || !(sigma2 >= 0.0))
        return NAN;
    if (L > M) {
        int64_t t = L;
        L = M;
        M = t;
    }
    return sqrt((double)M * sigma2 * x_bar((double)L / (double)M));
}

/* Omega up to terms constant in sigma^2: the -log gamma_h^2 parts of psi0
 * are dropped, which also makes zero singular values harmless. */
static double omega(const double *sv, int64_t L, int64_t M, double alpha,
                    double xb, double total, double sigma2)
{
    double ms = (double)M * sigma2;
    double val = total / ms + (double)L * log(sigma2);
    for (int64_t h = 0; h < L; h++) {
        double x = sv[h] * sv[h] / ms;
        if (x <= xb)
            break; /* descending: the rest are below too */
        double b = x - (1.0 + alpha);
        double disc = b * b - 4.0 * alpha;
        double tau = 0.5 * (b + sqrt(disc > 0.0 ? disc : 0.0));
        val += log1p(tau) + alpha * log1p(tau / alpha) - tau;
    }
    return val;
}

int64_t td_evbmf_rank(const double *sv, int64_t L, int64_t M, double *sigma2)
{
    if (sigma2)
        *sigma2 = 0.0;
    if (!sv || L <= 0 || M <= 0)
        return 0;
    if (L > M) {
        int64_t t = L;
        L = M;
        M = t;
    }
    double total = 0.0;
    for (int64_t h = 0; h < L; h++) {
        if (!isfinite(sv[h]))
            return 0;
        total += sv[h] * sv[h];
    }
    if (!(total > 0.0))
        return 0;
    double alpha = (double)L / (double)M, xb = x_bar(alpha);
    int64_t hb = (int64_t)ceil((double)L / (1.0 + alpha)) - 1;
    if (hb > L - 1)
        hb = L - 1;
    if (hb < 0)
        hb = 0;
    double tail = 0.0;
    for (int64_t h = hb; h < L; h++)
        tail += sv[h] * sv[h];
    double ub = total / ((double)L * (double)M);
    double lb = sv[hb] * sv[hb] / ((double)M * xb);
    double lb2 = tail / ((double)M * (double)(L - hb));
    if (lb2 > lb)
        lb = lb2;
    if (!(lb > 0.0) || lb > ub)
        lb = lb > ub ? ub : ub * 1e-12;

    /* scan in log sigma^2, then golden-section on the best bracket */
    double a = log(lb), b = log(ub), best = a, fbest = INFINITY;
    double step = (b - a) / (EVB_GRID - 1);
    for (int i = 0; i < EVB_GRID; i++) {
        double s = a + step * i;
        double f = omega(sv, L, M, alpha, xb, total, exp(s));
        if (f < fbest) {
            fbest = f;
            best = s;
        }
    }
    if (step > 0.0) {
        const double g = 0.5 * (sqrt(5.0) - 1.0);
        double lo = best - step > a ? best - step : a;
        double hi = best + step < b ? best + step : b;
        double c = hi - g * (hi - lo), d = lo + g * (hi - lo);
        double fc = omega(sv, L, M, alpha, xb, total, exp(c));
        double fd = omega(sv, L, M, alpha, xb, total, exp(d));
        for (int i = 0; i < 100 && hi - lo > 1e-12 * (1.0 + fabs(lo)); i++) {
            if (fc < fd) {
                hi = d;
                d = c;
                fd = fc;
                c = hi - g * (hi - lo);
                fc = omega(sv, L, M, alpha, xb, total, exp(c));
            } else {
                lo = c;
                c = d;
                fc = fd;
                d = lo + g * (hi - lo);
                fd = omega(sv, L, M, alpha, xb, total, exp(d));
            }
        }
        double s = 0.5 * (lo + hi);
        if (omega(sv, L, M, alpha, xb, total, exp(s)) < fbest)
            best = s;
    }
    double s2 = exp(best);
    if (sigma2)
        *sigma2 = s2;
    double thr = sqrt((double)M * s2 * xb);
    int64_t rank = 0;
    while (rank < L && sv[rank] > thr)
        rank++;
    return rank;
}
