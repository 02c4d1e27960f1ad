#include "td_arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_err.h"

struct block {
    struct block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

struct td_arena {
    struct block *head;  /* current small-object block */
    struct block *big;   /* dedicated blocks for large requests */
    size_t used;
};

enum { BLOCK_SIZE = 64 * 1024, BIG_REQUEST = BLOCK_SIZE / 4 };

static struct block *block_new(size_t size)
{
    size_t total;
    if (td_add_size(sizeof(struct block), size, &total))
        return NULL;
    struct block *b = malloc(total);
    if (b) {
        b->next = NULL;
        b->size = size;
        b->used = 0;
    }
    return b;
}

td_arena *td_arena_new(void)
{
    return calloc(1, sizeof(td_arena));
}

static void chain_free(struct block *b)
{
    while (b) {
        struct block *next = b->next;
        free(b);
        b = next;
    }
}

void td_arena_free(td_arena *a)
{
    if (!a)
        return;
    chain_free(a->head);
    chain_free(a->big);
    free(a);
}

void *td_arena_alloc(td_arena *a, size_t size)
{
    size_t rounded;
    if (td_add_size(size, 15, &rounded))
        return NULL;
    rounded &= ~(size_t)15;
    if (rounded == 0)
        rounded = 16;
    if (rounded >= BIG_REQUEST) {
        struct block *b = block_new(rounded);
        if (!b)
            return NULL;
        b->next = a->big;
        a->big = b;
        a->used += rounded;
        memset(b->data, 0, rounded);
        return b->data;
    }
    if (!a->head || a->head->size - a->head->used < rounded) {
        struct block *b = block_new(BLOCK_SIZE);
        if (!b)
            return NULL;
        b->next = a->head;
        a->head = b;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += rounded;
    a->used += rounded;
    memset(p, 0, rounded);
    return p;
}

void *td_arena_calloc(td_arena *a, size_t count, size_t size)
{
    size_t total;
    if (td_mul_size(count, size, &total))
        return NULL;
    return td_arena_alloc(a, total);
}

void *td_arena_memdup(td_arena *a, const void *src, size_t size)
{
    void *p = td_arena_alloc(a, size);
    if (p && size)
        memcpy(p, src, size);
    return p;
}

char *td_arena_strdup(td_arena *a, const char *s)
{
    return s ? td_arena_memdup(a, s, strlen(s) + 1) : NULL;
}

char *td_arena_printf(td_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = td_arena_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
