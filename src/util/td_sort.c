/* See td_sort.h. */
#include <stdlib.h>

#include "util/td_sort.h"

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void td_sort_doubles(double *v, size_t n)
{
    qsort(v, n, sizeof *v, by_value);
}

double td_median(double *v, size_t n)
{
    td_sort_doubles(v, n);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
