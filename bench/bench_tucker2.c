/* Times td_tucker2 on every kernel listed in DIR/index.txt (written by
 * bench/extract_convs.py) at ranks of half the channels (at least 1), with
 * a sweep cap and fit tolerance given on the command line, one layer after
 * another. Prints one line per layer:
 *     file cout cin k r_out r_in seconds rel_error sweeps
 * Built and run by bench/bench_decompose.sh:
 *     bench_tucker2 DIR SWEEPS FIT_TOL [REPEATS]
 * REPEATS (default 1) runs each layer that many times and keeps the
 * fastest, so that short layers are not dominated by timer noise. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decompose/td_decompose.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double *load(const char *dir, const char *file, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    double *w = malloc(n * sizeof *w);
    if (!f || !w || fread(w, sizeof *w, n, f) != n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    return w;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s DIR SWEEPS FIT_TOL [REPEATS]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    td_tucker2_opts_t opts = {.max_sweeps = atoi(argv[2]), .fit_tol = atof(argv[3]),
                              .double_sweeps = getenv("TD_DOUBLE_SWEEPS") != NULL};
    int reps = argc > 4 ? atoi(argv[4]) : 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/index.txt", dir);
    FILE *idx = fopen(path, "r");
    if (!idx) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    char file[256], line[1024];
    long long co, ci, k;
    while (fgets(line, sizeof line, idx)) {
        if (sscanf(line, "%255s %lld %lld %lld", file, &co, &ci, &k) != 4)
            continue;
        size_t n = (size_t)(co * ci * k);
        double *w = load(dir, file, n);
        int64_t ro = co / 2 > 0 ? co / 2 : 1, ri = ci / 2 > 0 ? ci / 2 : 1;
        double best = 1e300;
        td_tucker2_t t = {0};
        for (int r = 0; r < (reps > 0 ? reps : 1); r++) {
            td_err_t err = {0};
            td_tucker2_free(&t);
            double t0 = now();
            if (td_tucker2(w, co, ci, k, ro, ri, &opts, &t, &err) != TD_OK) {
                fprintf(stderr, "%s: %s\n", file, err.msg);
                return 1;
            }
            double dt = now() - t0;
            best = dt < best ? dt : best;
        }
        printf("%s %lld %lld %lld %lld %lld %.6f %.12e %d\n", file, co, ci, k,
               (long long)ro, (long long)ri, best, t.rel_error, t.sweeps);
        fflush(stdout);
        td_tucker2_free(&t);
        free(w);
    }
    fclose(idx);
    return 0;
}
