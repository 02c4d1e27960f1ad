/* Tucker-2 speed check: times td_tucker2 at half ranks on structured
 * random 256x256x3x3 and 512x512x3x3 kernels, writes each kernel to
 * dec_speed_<C>.bin (raw little-endian float64, C order) and the results to
 * dec_speed_c.txt in the current directory, for bench/hooi_numpy.py to run
 * the same HOOI on the same data and print both side by side.
 *
 * Build (one line, from the repository root; the command is in line
 * comments below so its globs do not nest inside this block comment),
 * then run ./dec_speed followed by python3 bench/hooi_numpy.py. */
// gcc -std=c11 -O2 -D_GNU_SOURCE -Isrc $(pkg-config --cflags openblas) bench/dec_speed.c src/util/*.c src/decompose/*.c -llapacke -lopenblas -lm -o dec_speed
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "decompose/td_decompose.h"

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform noise shaped by channel-wise decay, as in trained kernels whose
 * unfolding spectra fall off smoothly instead of being flat. */
static double *make_kernel(int64_t c, int64_t k)
{
    double *w = malloc((size_t)(c * c * k) * sizeof *w);
    uint64_t s = (uint64_t)c;
    if (!w)
        return NULL;
    for (int64_t i = 0; i < c; i++)
        for (int64_t j = 0; j < c; j++)
            for (int64_t q = 0; q < k; q++) {
                double u = (double)(next(&s) >> 11) * (2.0 / 9007199254740992.0) - 1.0;
                w[(i * c + j) * k + q] =
                    u / ((1.0 + (double)i / 16.0) * (1.0 + (double)j / 16.0));
            }
    return w;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void)
{
    const int64_t sizes[2] = {256, 512}, k = 9;
    FILE *res = fopen("dec_speed_c.txt", "w");
    if (!res)
        return 1;
    for (int z = 0; z < 2; z++) {
        int64_t c = sizes[z];
        double *w = make_kernel(c, k);
        char name[64];
        snprintf(name, sizeof name, "dec_speed_%lld.bin", (long long)c);
        FILE *f = fopen(name, "wb");
        if (!w || !f || fwrite(w, sizeof *w, (size_t)(c * c * k), f) != (size_t)(c * c * k)) {
            fprintf(stderr, "cannot write %s\n", name);
            return 1;
        }
        fclose(f);
        td_err_t err = {0};
        td_tucker2_t t = {0};
        double best = 1e300;
        for (int rep = 0; rep < 3; rep++) {
            td_tucker2_free(&t);
            double t0 = now();
            if (td_tucker2(w, c, c, k, c / 2, c / 2, NULL, &t, &err) != TD_OK) {
                fprintf(stderr, "td_tucker2: %s\n", err.msg);
                return 1;
            }
            double dt = now() - t0;
            if (dt < best)
                best = dt;
        }
        printf("%lldx%lldx3x3 ranks %lld: %.3f s, rel_error %.12e, sweeps %d\n",
               (long long)c, (long long)c, (long long)(c / 2), best, t.rel_error,
               t.sweeps);
        fprintf(res, "%lld %.6f %.15e %d\n", (long long)c, best, t.rel_error,
                t.sweeps);
        td_tucker2_free(&t);
        free(w);
    }
    fclose(res);
    return 0;
}
