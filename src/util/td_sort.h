/* Sorting and medians of doubles: the timings (runtime, speed check) and
 * the refit's chosen ridges take their medians the same way. */
#ifndef TD_SORT_H
#define TD_SORT_H

#include <stddef.h>

/* v[0..n) in ascending order. */
void td_sort_doubles(double *v, size_t n);

/* The median of v[0..n) (n >= 1; the mean of the two middle values when n
 * is even); sorts v. */
double td_median(double *v, size_t n);

#endif
