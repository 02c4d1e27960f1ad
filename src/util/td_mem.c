#include "td_mem.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Bound by the linker's --wrap to the C library's functions. Weak, so that a
 * program linking the library without --wrap (then never calling the
 * wrappers) still links. */
extern void *__real_malloc(size_t n) __attribute__((weak));
extern void *__real_calloc(size_t k, size_t n) __attribute__((weak));
extern void *__real_realloc(void *p, size_t n) __attribute__((weak));
extern char *__real_strdup(const char *s) __attribute__((weak));
extern char *__real_strndup(const char *s, size_t n) __attribute__((weak));

enum { FAULT_UNREAD = 0, FAULT_OFF = 1, FAULT_ARMED = 2 };

static atomic_int fault_state;
static atomic_uint_fast64_t fault_at;
static atomic_uint_fast64_t fault_count;
static atomic_int fault_fired;

/* getenv and strtoull do not allocate. Two threads racing here compute and
 * store the same values. */
static int fault_init(void)
{
    const char *v = getenv("ONNXTD_FAIL_ALLOC");
    unsigned long long n = 0;
    if (v && *v >= '0' && *v <= '9')
        n = strtoull(v, NULL, 10);
    atomic_store_explicit(&fault_at, (uint_fast64_t)n, memory_order_relaxed);
    int s = n ? FAULT_ARMED : FAULT_OFF;
    atomic_store_explicit(&fault_state, s, memory_order_release);
    return s;
}

/* 1 when this allocation is the one to refuse. */
static int fault_now(void)
{
    int s = atomic_load_explicit(&fault_state, memory_order_relaxed);
    if (__builtin_expect(s == FAULT_OFF, 1))
        return 0;
    if (s == FAULT_UNREAD && fault_init() == FAULT_OFF)
        return 0;
    uint_fast64_t k = atomic_fetch_add_explicit(&fault_count, 1,
                                                memory_order_relaxed) + 1;
    if (k != atomic_load_explicit(&fault_at, memory_order_relaxed))
        return 0;
    atomic_store_explicit(&fault_fired, 1, memory_order_relaxed);
    return 1;
}

#define TD_WRAPPER __attribute__((visibility("hidden")))

TD_WRAPPER void *__wrap_malloc(size_t n);
TD_WRAPPER void *__wrap_calloc(size_t k, size_t n);
TD_WRAPPER void *__wrap_realloc(void *p, size_t n);
TD_WRAPPER char *__wrap_strdup(const char *s);
TD_WRAPPER char *__wrap_strndup(const char *s, size_t n);

void *__wrap_malloc(size_t n)
{
    return fault_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    return fault_now() ? NULL : __real_calloc(k, n);
}

/* A failed realloc leaves the block as it was, as the real one does. */
void *__wrap_realloc(void *p, size_t n)
{
    return fault_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fault_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return fault_now() ? NULL : __real_strndup(s, n);
}

void td_mem_fault_stats_get(td_mem_fault_stats *out)
{
    int s = atomic_load_explicit(&fault_state, memory_order_acquire);
    if (s == FAULT_UNREAD)
        s = fault_init();
    out->armed = s == FAULT_ARMED;
    out->fail_at = atomic_load_explicit(&fault_at, memory_order_relaxed);
    out->count = atomic_load_explicit(&fault_count, memory_order_relaxed);
    out->fired = atomic_load_explicit(&fault_fired, memory_order_relaxed);
}
