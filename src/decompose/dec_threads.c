/* The one place that changes the BLAS library's thread count. */
#include <cblas.h>

#include "td_decompose.h"

int td_dec_blas_threads(int n)
{
    int before = openblas_get_num_threads();
    openblas_set_num_threads(n);
    return before;
}
