/* Spectra and factors kept between compressions; see td_reuse.h. */
#include "td_reuse.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One layer's factors at one plan, and what factoring wrote in its report
 * line (the pointers naming the node are the fork's, not kept). */
/* The steps that used an entry, as bits (step mod 64: a search has a
 * handful). */
#define STEP_BIT(s) ((uint64_t)1 << ((unsigned)(s) % 64))

typedef struct kept_factors {
    uint64_t steps;
    int planned, plan_keep;
    int64_t r0, r1;
    double cost_cap;
    td_factors f;
    td_layer_report rep;
    int note_same;  /* factoring left the note as it was */
} kept_factors;

typedef struct kept_layer {
    char *name;
    int have_spectra;
    int64_t n0, n1, vbmf0, vbmf1;
    double *tail0, *tail1;
    double norm2;
    double lambda;  /* rel_lambda by cross-validation (< 0: -the default,
                       not chosen); 0: none kept */
    int64_t lambda_r0, lambda_r1;  /* the ranks it was chosen at */
    kept_factors *fac;
    size_t n_fac, cap_fac;
} kept_layer;

struct td_reuse {
    pthread_mutex_t lock;
    kept_layer *l;
    size_t n, cap;
    int step;
    size_t factored, reused;
};

td_reuse *td_reuse_new(void)
{
    td_reuse *r = calloc(1, sizeof *r);
    if (r && pthread_mutex_init(&r->lock, NULL)) {
        free(r);
        return NULL;
    }
    return r;
}

static void drop_factors(kept_factors *k)
{
    td_factors_free(&k->f);
}

void td_reuse_free(td_reuse *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        for (size_t q = 0; q < r->l[i].n_fac; q++)
            drop_factors(&r->l[i].fac[q]);
        free(r->l[i].fac);
        free(r->l[i].tail0);
        free(r->l[i].tail1);
        free(r->l[i].name);
    }
    free(r->l);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* The layer's entry (created when absent and `make`); call locked. */
static kept_layer *find(td_reuse *r, const char *name, int make)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->l[i].name, name))
            return &r->l[i];
    if (!make)
        return NULL;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        kept_layer *l = realloc(r->l, cap * sizeof *l);
        if (!l)
            return NULL;
        r->l = l;
        r->cap = cap;
    }
    kept_layer *k = &r->l[r->n];
    memset(k, 0, sizeof *k);
    if (!(k->name = strdup(name)))
        return NULL;
    r->n++;
    return k;
}

static double *copy_doubles(const double *x, int64_t n)
{
    double *y = malloc(((size_t)n + 1) * sizeof *y);
    if (y)
        memcpy(y, x, ((size_t)n + 1) * sizeof *y);
    return y;
}

int td_reuse_lambda_get(td_reuse *r, const char *layer, int64_t r0,
                        int64_t r1, double *lambda)
{
    pthread_mutex_lock(&r->lock);
    kept_layer *k = find(r, layer, 0);
    int hit = k && k->lambda != 0 && k->lambda_r0 == r0 && k->lambda_r1 == r1;
    if (hit)
        *lambda = k->lambda;
    pthread_mutex_unlock(&r->lock);
    return hit;
}

void td_reuse_lambda_put(td_reuse *r, const char *layer, int64_t r0,
                         int64_t r1, double lambda)
{
    pthread_mutex_lock(&r->lock);
    kept_layer *k = find(r, layer, 1);
    if (k) {
        k->lambda = lambda;
        k->lambda_r0 = r0;
        k->lambda_r1 = r1;
    }
    pthread_mutex_unlock(&r->lock);
}

int td_reuse_spectra_get(td_reuse *r, td_job *j)
{
    int hit = 0;
    pthread_mutex_lock(&r->lock);
    kept_layer *k = find(r, j->rep->node, 0);
    if (k && k->have_spectra) {
        j->tail0 = copy_doubles(k->tail0, k->n0);
        j->tail1 = copy_doubles(k->tail1, k->n1);
        if (j->tail0 && j->tail1) {
            j->n0 = k->n0;
            j->n1 = k->n1;
            j->vbmf0 = k->vbmf0;
            j->vbmf1 = k->vbmf1;
            j->norm2 = k->norm2;
            j->have_spectra = 1;
            hit = 1;
        } else {  /* factored afresh instead */
            free(j->tail0);
            free(j->tail1);
            j->tail0 = j->tail1 = NULL;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return hit;
}

void td_reuse_spectra_put(td_reuse *r, const td_job *j)
{
    if (!j->have_spectra)
        return;
    pthread_mutex_lock(&r->lock);
    kept_layer *k = find(r, j->rep->node, 1);
    if (k && !k->have_spectra) {
        k->tail0 = copy_doubles(j->tail0, j->n0);
        k->tail1 = copy_doubles(j->tail1, j->n1);
        k->have_spectra = k->tail0 && k->tail1;
        k->n0 = j->n0;
        k->n1 = j->n1;
        k->vbmf0 = j->vbmf0;
        k->vbmf1 = j->vbmf1;
        k->norm2 = j->norm2;
    }
    pthread_mutex_unlock(&r->lock);
}

static int same_plan(const kept_factors *f, const td_job *j)
{
    if (!f->planned || !j->planned)  /* the store's per-layer budget */
        return f->planned == j->planned;
    return f->plan_keep == j->plan_keep && f->r0 == j->r0 &&
           f->r1 == j->r1 && f->cost_cap == j->cost_cap;
}

/* What td_job_factor writes into the report line, from one line into
 * another (node, op and the data-free note stay the fork's own). */
static void copy_factoring(td_layer_report *to, const td_layer_report *from)
{
    const char *node = to->node, *op = to->op;
    int weighted = to->weighted;
    int64_t pb = to->params_before, mb = to->macs_before;
    double est = to->est_error;
    int kfs = to->kept_for_speed;
    *to = *from;
    to->node = node;
    to->op = op;
    to->weighted = weighted;
    to->params_before = pb;
    to->macs_before = mb;
    to->est_error = est;
    to->kept_for_speed = kfs;
}

int td_reuse_factors_get(td_reuse *r, td_job *j, const char *note_before)
{
    int hit = 0;
    pthread_mutex_lock(&r->lock);
    kept_layer *k = find(r, j->rep->node, 0);
    for (size_t q = 0; k && q < k->n_fac && !hit; q++) {
        kept_factors *f = &k->fac[q];
        if (!same_plan(f, j))
            continue;
        copy_factoring(j->rep, &f->rep);
        /* a note factoring did not change is the fork's own text */
        j->rep->note = f->note_same ? note_before : f->rep.note;
        j->rep->seconds = 0;
        j->chosen = f->f;
        j->chosen_shared = 1;
        f->steps |= STEP_BIT(r->step);
        hit = 1;
    }
    r->reused += hit;
    pthread_mutex_unlock(&r->lock);
    return hit;
}

void td_reuse_factors_put(td_reuse *r, td_job *j, const char *note_before)
{
    pthread_mutex_lock(&r->lock);
    r->factored++;
    kept_layer *k = find(r, j->rep->node, 1);
    if (k && k->n_fac == k->cap_fac) {
        size_t cap = k->cap_fac ? 2 * k->cap_fac : 2;
        kept_factors *f = realloc(k->fac, cap * sizeof *f);
        if (f) {
            k->fac = f;
            k->cap_fac = cap;
        }
    }
    if (k && k->n_fac < k->cap_fac) {
        kept_factors *f = &k->fac[k->n_fac++];
        f->steps = STEP_BIT(r->step);
        f->planned = j->planned;
        f->plan_keep = j->plan_keep;
        f->r0 = j->r0;
        f->r1 = j->r1;
        f->cost_cap = j->cost_cap;
        f->f = j->chosen;
        f->rep = *j->rep;
        f->note_same = j->rep->note == note_before;
        j->chosen_shared = 1;
    }
    pthread_mutex_unlock(&r->lock);
}

int td_reuse_next_step(td_reuse *r)
{
    pthread_mutex_lock(&r->lock);
    int s = ++r->step;
    pthread_mutex_unlock(&r->lock);
    return s;
}

void td_reuse_retain(td_reuse *r, int keep)
{
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++) {
        kept_layer *k = &r->l[i];
        size_t out = 0;
        uint64_t mask = STEP_BIT(r->step) | (keep >= 0 ? STEP_BIT(keep) : 0);
        for (size_t q = 0; q < k->n_fac; q++) {
            k->fac[q].steps &= mask;
            if (k->fac[q].steps)
                k->fac[out++] = k->fac[q];
            else
                drop_factors(&k->fac[q]);
        }
        k->n_fac = out;
    }
    pthread_mutex_unlock(&r->lock);
}

void td_reuse_counts(const td_reuse *r, size_t *factored, size_t *reused)
{
    *factored = r->factored;
    *reused = r->reused;
}
