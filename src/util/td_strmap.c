#include "td_strmap.h"

#include <stdlib.h>
#include <string.h>

struct slot {
    const char *key;
    int64_t value;
};

struct td_strmap {
    struct slot *slots;
    size_t cap, count;  /* cap is a power of two, kept at most 1/2 full */
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;  /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

td_strmap *td_strmap_new(size_t expected)
{
    td_strmap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cap = 16;
    while (m->cap < expected * 2 && m->cap < ((size_t)1 << 40))
        m->cap <<= 1;
    m->slots = calloc(m->cap, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    return m;
}

void td_strmap_free(td_strmap *m)
{
    if (m) {
        free(m->slots);
        free(m);
    }
}

static struct slot *find(struct slot *slots, size_t cap, const char *key)
{
    size_t i = hash(key) & (cap - 1);
    while (slots[i].key && strcmp(slots[i].key, key) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int grow(td_strmap *m)
{
    size_t cap = m->cap * 2;
    struct slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            *find(slots, cap, m->slots[i].key) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int td_strmap_put(td_strmap *m, const char *key, int64_t value)
{
    if ((m->count + 1) * 2 > m->cap && grow(m))
        return -1;
    struct slot *s = find(m->slots, m->cap, key);
    if (!s->key) {
        s->key = key;
        m->count++;
    }
    s->value = value;
    return 0;
}

int64_t td_strmap_get(const td_strmap *m, const char *key)
{
    const struct slot *s = find(m->slots, m->cap, key);
    return s->key ? s->value : -1;
}
