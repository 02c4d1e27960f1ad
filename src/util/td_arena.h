/* A bump arena for everything the IR builds: message copies, strings, new
 * tensor payloads. Freed all at once with the model, so passes never track
 * per-object ownership. Large requests get their own block. */
#ifndef TD_ARENA_H
#define TD_ARENA_H

#include <stddef.h>

typedef struct td_arena td_arena;

td_arena *td_arena_new(void);
void td_arena_free(td_arena *a);

/* Zeroed, 16-byte aligned; NULL on overflow or out of memory. */
void *td_arena_alloc(td_arena *a, size_t size);
void *td_arena_calloc(td_arena *a, size_t count, size_t size);
void *td_arena_memdup(td_arena *a, const void *src, size_t size);
char *td_arena_strdup(td_arena *a, const char *s);
char *td_arena_printf(td_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
