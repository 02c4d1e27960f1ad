/* A fixed set of worker threads draining a list of independent items: each
 * thread takes the next unstarted index until none is left or an item asks
 * to stop. The calling thread works too, so one thread means no thread is
 * created. Items are handed out in index order; a caller that wants another
 * order (longest first, say) permutes its items before. */
#ifndef TD_POOL_H
#define TD_POOL_H

#include <stddef.h>

/* Threads a pool starts at most: a bound for its stack array of thread
 * handles, far above the cores of the machines this runs on. */
#define TD_POOL_MAX_THREADS 64

/* Does item i; non-zero: hand out no further items (those running finish). */
typedef int (*td_pool_work_fn)(void *ctx, size_t i);
/* Called after each item (the one just finished, and how many are), one
 * call at a time across threads (progress reports). */
typedef void (*td_pool_done_fn)(void *ctx, size_t item, size_t done,
                                size_t total);

/* Runs work over items 0..n-1 on min(threads, n, TD_POOL_MAX_THREADS)
 * threads (threads <= 0: one per online CPU); done may be NULL. Returns
 * when every started item has finished. A thread that cannot be created is
 * left out: the others do its share. */
void td_pool_run(size_t n, int threads, td_pool_work_fn work,
                 td_pool_done_fn done, void *ctx);

#endif
