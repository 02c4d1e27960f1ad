/* What one symmetric eigensolve costs at the sizes RSDTR's storage search
 * meets (bench/README.md, "Where RSDTR's time goes"): for an n x m random
 * matrix A, the Gram matrix A A^T (dsyrk), its eigenvalues only (dsyevd
 * 'N'), the tridiagonal reduction alone (dsytrd), and eigenvectors too
 * (dsyevd 'V'); then single precision (ssyrk, ssyevd 'N').
 *
 *   gcc -std=c11 -O2 -D_GNU_SOURCE bench/eig_cost.c -llapacke -lopenblas -lm -o eig_cost
 *   OPENBLAS_NUM_THREADS=1 ./eig_cost 1024 1536
 */
#include <cblas.h>
#include <lapacke.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: eig_cost N M (Gram of an N x M matrix)\n");
        return 2;
    }
    int n = atoi(argv[1]), m = atoi(argv[2]);
    if (n < 1 || m < 1)
        return 2;
    size_t nm = (size_t)n * (size_t)m, nn = (size_t)n * (size_t)n;
    double *a = malloc(nm * sizeof *a), *g = malloc(nn * sizeof *g),
           *h = malloc(nn * sizeof *h), *w = malloc((size_t)n * sizeof *w),
           *e = malloc((size_t)n * sizeof *e), *tau = malloc((size_t)n * sizeof *tau);
    float *fa = malloc(nm * sizeof *fa), *fg = malloc(nn * sizeof *fg),
          *fw = malloc((size_t)n * sizeof *fw);
    if (!a || !g || !h || !w || !e || !tau || !fa || !fg || !fw) {
        fprintf(stderr, "eig_cost: out of memory\n");
        return 1;
    }
    srand(1);
    for (size_t i = 0; i < nm; i++)
        fa[i] = (float)(a[i] = rand() / (double)RAND_MAX - 0.5);
    double t = now();
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, n, m, 1.0, a, n, 0.0,
                g, n);
    printf("dsyrk          %.3f s\n", now() - t);
    memcpy(h, g, nn * sizeof *h);
    t = now();
    LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'U', n, h, n, w);
    printf("dsyevd 'N'     %.3f s\n", now() - t);
    memcpy(h, g, nn * sizeof *h);
    t = now();
    LAPACKE_dsytrd(LAPACK_COL_MAJOR, 'U', n, h, n, w, e, tau);
    printf("dsytrd         %.3f s\n", now() - t);
    memcpy(h, g, nn * sizeof *h);
    t = now();
    LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', n, h, n, w);
    printf("dsyevd 'V'     %.3f s\n", now() - t);
    t = now();
    cblas_ssyrk(CblasColMajor, CblasUpper, CblasNoTrans, n, m, 1.0f, fa, n,
                0.0f, fg, n);
    printf("ssyrk          %.3f s\n", now() - t);
    t = now();
    LAPACKE_ssyevd(LAPACK_COL_MAJOR, 'N', 'U', n, fg, n, fw);
    printf("ssyevd 'N'     %.3f s\n", now() - t);
    free(a); free(g); free(h); free(w); free(e); free(tau);
    free(fa); free(fg); free(fw);
    return 0;
}
