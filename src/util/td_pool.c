#include "td_pool.h"

#include <pthread.h>
#include <unistd.h>

struct pool {
    size_t n, next, done;
    int stop;
    td_pool_work_fn work;
    td_pool_done_fn on_done;
    void *ctx;
    pthread_mutex_t mu;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next++;
        int stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop || i >= p->n)
            return NULL;
        int failed = p->work(p->ctx, i);
        pthread_mutex_lock(&p->mu);
        if (failed)
            p->stop = 1;
        p->done++;
        if (p->on_done)
            p->on_done(p->ctx, i, p->done, p->n);
        pthread_mutex_unlock(&p->mu);
    }
}

void td_pool_run(size_t n, int threads, td_pool_work_fn work,
                 td_pool_done_fn done, void *ctx)
{
    struct pool p = {.n = n, .work = work, .on_done = done, .ctx = ctx};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = threads > 0 ? threads : cpus > 0 ? (int)cpus : 1;
    if ((size_t)nt > n)
        nt = (int)(n ? n : 1);
    if (nt > TD_POOL_MAX_THREADS)
        nt = TD_POOL_MAX_THREADS;
    pthread_t th[TD_POOL_MAX_THREADS];
    pthread_mutex_init(&p.mu, NULL);
    int started = 0;
    for (int t = 1; t < nt; t++)
        if (pthread_create(&th[started], NULL, worker, &p) == 0)
            started++;
    worker(&p);
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&p.mu);
}
