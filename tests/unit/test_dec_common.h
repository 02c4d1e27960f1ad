/* Shared helpers for the numerics tests: a seeded PRNG (so every test is
 * reproducible and independent of libc's rand state) and small dense
 * tensor builders that do not use the code under test. */
#ifndef TEST_DEC_COMMON_H
#define TEST_DEC_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct trng {
    uint64_t s;
} trng_t;

/* splitmix64 */
static inline uint64_t trng_next(trng_t *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* uniform in [-1, 1) */
static inline double trng_unif(trng_t *r)
{
    return (double)(trng_next(r) >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

/* standard normal (Box-Muller) */
static inline double trng_gauss(trng_t *r)
{
    double u1 = ((double)(trng_next(r) >> 11) + 0.5) / 9007199254740992.0;
    double u2 = ((double)(trng_next(r) >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static inline double *trand(trng_t *r, size_t n)
{
    double *a = malloc((n ? n : 1) * sizeof *a);
    if (!a)
        abort();
    for (size_t i = 0; i < n; i++)
        a[i] = trng_unif(r);
    return a;
}

static inline double tnorm(const double *a, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * a[i];
    return sqrt(s);
}

static inline double trel_diff(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    double na = tnorm(a, n);
    return na > 0.0 ? sqrt(s) / na : sqrt(s);
}

/* c (m x n) = a (m x k) * b (k x n), naive, row-major */
static inline void tmatmul(const double *a, const double *b, double *c,
                           size_t m, size_t k, size_t n)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t l = 0; l < k; l++)
                s += a[i * k + l] * b[l * n + j];
            c[i * n + j] = s;
        }
}

/* Dense CP reconstruction sum_r prod_m f[m][i_m * rank + r], naive. */
static inline void tcp_full(int nd, const int64_t *dims, int64_t rank,
                            double *const *f, double *out)
{
    size_t total = 1;
    for (int m = 0; m < nd; m++)
        total *= (size_t)dims[m];
    for (size_t i = 0; i < total; i++) {
        size_t rem = i, idx[16];
        for (int m = nd - 1; m >= 0; m--) {
            idx[m] = rem % (size_t)dims[m];
            rem /= (size_t)dims[m];
        }
        double s = 0.0;
        for (int64_t r = 0; r < rank; r++) {
            double p = 1.0;
            for (int m = 0; m < nd; m++)
                p *= f[m][idx[m] * (size_t)rank + (size_t)r];
            s += p;
        }
        out[i] = s;
    }
}

/* Solves the n x n system m x = v in place (m destroyed, v gets x) by
 * Gaussian elimination with partial pivoting: a reference that shares
 * nothing with LAPACK. */
static inline void tgauss_solve(double *m, double *v, int n)
{
    for (int k = 0; k < n; k++) {
        int piv = k;
        for (int i = k + 1; i < n; i++)
            if (fabs(m[i * n + k]) > fabs(m[piv * n + k]))
                piv = i;
        for (int j = 0; j < n; j++) {
            double t = m[k * n + j];
            m[k * n + j] = m[piv * n + j];
            m[piv * n + j] = t;
        }
        double t = v[k];
        v[k] = v[piv];
        v[piv] = t;
        for (int i = k + 1; i < n; i++) {
            double f = m[i * n + k] / m[k * n + k];
            for (int j = k; j < n; j++)
                m[i * n + j] -= f * m[k * n + j];
            v[i] -= f * v[k];
        }
    }
    for (int k = n - 1; k >= 0; k--) {
        for (int j = k + 1; j < n; j++)
            v[k] -= m[k * n + j] * v[j];
        v[k] /= m[k * n + k];
    }
}

/* The largest |a_i - b_i|. */
static inline double tmax_diff(const double *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

/* Row o of the ridge regression's map (co x n, into out): the solve of
 * (c + lam I) out_o = cy_o + lam a0_o, lam = rel x trace(c) / n, for the
 * n x n covariance c and the co x n cross-covariance cy; n <= 64. */
static inline void tridge_rows(const double *c, const double *cy,
                               const double *a0, int co, int n, double rel,
                               double *out)
{
    double tr = 0, m[64 * 64];
    for (int i = 0; i < n; i++)
        tr += c[i * n + i];
    double lam = rel * tr / n;
    for (int o = 0; o < co; o++) {
        double *v = out + o * n;
        memcpy(m, c, (size_t)(n * n) * sizeof *m);
        for (int i = 0; i < n; i++) {
            m[i * n + i] += lam;
            v[i] = cy[o * n + i] + lam * a0[o * n + i];
        }
        tgauss_solve(m, v, n);
    }
}

#endif
