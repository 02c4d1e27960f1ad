/* Shared by the room's files only. */
#ifndef TD_RT_INTERNAL_H
#define TD_RT_INTERNAL_H

#include "runtime/td_ort_api.h"
#include "runtime/td_rt.h"

struct td_rt {
    void *dl;
    const td_ort_api *api;
    OrtEnv *env;
    char *path;
    char version[32];
};

struct td_rt_session {
    const td_rt *rt;
    OrtSession *ort;
    OrtMemoryInfo *cpu;
    char *label;            /* the model's path or label, for messages */
    td_rt_io *in, *out;
    size_t n_in, n_out;
};

/* Turns a non-NULL OrtStatus into err ("WHAT: ONNX Runtime: MSG") and
 * releases it; TD_OK for NULL. */
td_status td_rt_status(const td_rt *rt, OrtStatus *st, td_err_t *err,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
