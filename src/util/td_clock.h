/* Wall-clock time for the reports' seconds. */
#ifndef TD_CLOCK_H
#define TD_CLOCK_H

/* Seconds on the monotonic clock (differences only mean something). */
double td_now(void);

#endif
