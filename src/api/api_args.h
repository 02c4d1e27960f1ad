/* The public functions' argument checks: a NULL where a handle, options
 * or an out pointer is needed is a usage error naming the argument, never
 * a crash. */
#ifndef API_ARGS_H
#define API_ARGS_H

#include "util/td_err.h"

/* TD_OK when p is set, else TD_EUSAGE "FN: ARG is NULL". */
static inline td_status api_need(const void *p, const char *fn,
                                 const char *arg, td_err_t *err)
{
    if (p)
        return TD_OK;
    return td_err_set(err, TD_EUSAGE, "%s: %s is NULL", fn, arg);
}

#endif
