/* String -> index map (open addressing). Keys are borrowed: they must
 * outlive the map. Used for name lookups in the graph IR. */
#ifndef TD_STRMAP_H
#define TD_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct td_strmap td_strmap;

td_strmap *td_strmap_new(size_t expected);
void td_strmap_free(td_strmap *m);
/* Inserts or replaces; returns 0, or -1 when out of memory. */
int td_strmap_put(td_strmap *m, const char *key, int64_t value);
/* The value, or -1 when absent. */
int64_t td_strmap_get(const td_strmap *m, const char *key);

#endif
