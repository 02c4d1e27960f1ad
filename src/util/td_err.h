/* Errors as values: every fallible function returns a td_status and fills a
 * td_err_t whose message names the file, node or tensor concerned. Only the
 * CLI prints. */
#ifndef TD_ERR_H
#define TD_ERR_H

#include <stddef.h>
#include <stdint.h>

typedef enum td_status {
    TD_OK = 0,
    TD_EINPUT = 1,    /* malformed or unsupported model / argument data */
    TD_EIO = 2,       /* a read, write, rename or fsync failed */
    TD_ENOMEM = 3,    /* allocation failed or a size bound was exceeded */
    TD_ENUMERIC = 4,  /* NaN/Inf input or a LAPACK failure */
    TD_EUSAGE = 5,    /* wrong options (maps to exit code 2 in the CLI) */
    TD_EUNMET = 6     /* a budget or bound this model cannot meet (exit 1) */
} td_status;

typedef struct td_err {
    td_status code;
    char msg[1024];
} td_err_t;

/* Formats into err (if non-NULL) and returns code, so callers can write
 * `return td_err_set(err, TD_EINPUT, "...")`. */
td_status td_err_set(td_err_t *err, td_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes an existing message ("FILE: " + old message), keeping the code. */
td_status td_err_prefix(td_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Overflow-checked size arithmetic; return 0 on success, -1 on overflow. */
static inline int td_mul_size(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}
static inline int td_add_size(size_t a, size_t b, size_t *out)
{
    return __builtin_add_overflow(a, b, out) ? -1 : 0;
}
static inline int td_mul_i64(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}
static inline int td_add_i64(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_add_overflow(a, b, out) ? -1 : 0;
}
static inline int td_sub_i64(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_sub_overflow(a, b, out) ? -1 : 0;
}

#endif
