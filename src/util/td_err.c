#include "td_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

td_status td_err_set(td_err_t *err, td_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

td_status td_err_prefix(td_err_t *err, const char *fmt, ...)
{
    if (!err)
        return TD_EINPUT;
    char head[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation of an over-long message is acceptable; keep the head. */
    size_t hl = strlen(head);
    memcpy(err->msg, head, hl + 1);
    size_t room = sizeof err->msg - hl - 1;
    size_t ol = strnlen(old, room);
    memcpy(err->msg + hl, old, ol);
    err->msg[hl + ol] = '\0';
    return err->code;
}
