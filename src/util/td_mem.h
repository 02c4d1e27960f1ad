/* Allocation fault injection, the way SQLite tests its out-of-memory paths:
 * make the Nth allocation fail and check that the program still ends with a
 * clean error, no leak and nothing written.
 *
 * Every malloc, calloc, realloc, strdup and strndup called by the code in
 * src/ passes through one counting wrapper (td_mem.c): the onnxtd program is
 * linked with the linker's --wrap for those names, so no call site names the
 * hook and new code cannot bypass it. Allocations made inside other
 * libraries (libc, OpenBLAS/LAPACKE) are not counted; protobuf-c's are,
 * because td_model.c hands unpack an allocator of ours (td_mem_protobuf).
 *
 * The environment variable ONNXTD_FAIL_ALLOC=N (N >= 1), read once at the
 * first allocation, makes the Nth counted allocation return NULL (once:
 * later ones succeed, so recovery code runs with memory available again).
 * Unset or 0, the wrapper costs one relaxed atomic load per allocation. The
 * counters are process-wide atomics: a test switch, not program state. */
#ifndef TD_MEM_H
#define TD_MEM_H

#include <stdint.h>

typedef struct td_mem_fault_stats {
    int armed;       /* ONNXTD_FAIL_ALLOC named an allocation */
    uint64_t fail_at;
    uint64_t count;  /* allocations counted so far (only when armed) */
    int fired;       /* the fail_at-th allocation was refused */
} td_mem_fault_stats;

void td_mem_fault_stats_get(td_mem_fault_stats *out);

#endif
