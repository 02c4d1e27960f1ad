/* Finding and loading libonnxruntime.so.1, and ORT's error values. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/td_rt_internal.h"

#ifndef TD_ORT_DEFAULT_LIB
#define TD_ORT_DEFAULT_LIB ""
#endif

#define TD_ORT_SONAME "libonnxruntime.so.1"

static const char install_hint[] =
    "install ONNX Runtime with 'bash scripts/setup.sh' (onnxruntime-node "
    "into tools/ort), or point options.ort_lib or " TD_RT_ENV_LIB " at "
    "a "
    TD_ORT_SONAME " (from ORT's release archive, lib/, or its Python wheel, "
    "onnxruntime/capi/)";

td_status td_rt_status(const td_rt *rt, OrtStatus *st, td_err_t *err,
                       const char *fmt, ...)
{
    if (!st)
        return TD_OK;
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *msg = rt->api->GetErrorMessage(st);
    td_err_set(err, TD_EINPUT, "%s: ONNX Runtime: %s", what, msg ? msg : "?");
    rt->api->ReleaseStatus(st);
    return TD_EINPUT;
}

/* ORT reports through its statuses what the caller needs; its log lines
 * (warnings about unused initializers and the like) would be printing from
 * the library, which onnxtd does not do. */
static void quiet_log(void *param, int severity, const char *category,
                      const char *logid, const char *where, const char *msg)
{
    (void)param, (void)severity, (void)category, (void)logid, (void)where,
        (void)msg;
}

/* ONNX Runtime's telemetry off unless the user has said otherwise. Its
 * Linux builds from 1.29 on (the npm package's among them) otherwise
 * write a device id and an event cache under ~/.cache/Microsoft, leave
 * mat-debug-PID.log and .ses in $TMPDIR and upload usage events: a tool
 * that measures a model writes nothing it was not asked to, and sends
 * nothing. Its switch is an environment variable read once, when ORT
 * initialises, so it is set before the library is loaded; the name
 * changed between releases (ORT_DISABLE_TELEMETRY in 1.29-1.30,
 * ORT_TELEMETRY_DISABLED after), so both. A value the user set to
 * either, whatever it is, leaves both as they are. */
static void telemetry_off(void)
{
    static const char *const names[] = {"ORT_DISABLE_TELEMETRY",
                                        "ORT_TELEMETRY_DISABLED"};
    for (size_t i = 0; i < 2; i++)
        if (getenv(names[i]))
            return;
    for (size_t i = 0; i < 2; i++)
        setenv(names[i], "1", 0);
}

/* dlopen one candidate; on failure appends why to `tried`. RTLD_NODELETE:
 * see td_rt.h. */
static void *open_one(const char *path, char *tried, size_t cap)
{
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!dl) {
        const char *why = dlerror();
        size_t len = strlen(tried);
        snprintf(tried + len, cap - len, "%s%s (%s)", len ? "; " : "", path,
                 why ? why : "cannot be loaded");
    }
    return dl;
}

static td_status bind_api(td_rt *rt, const char *path, td_err_t *err)
{
    td_ort_get_api_base_fn get_base;
    dlerror();
    *(void **)&get_base = dlsym(rt->dl, "OrtGetApiBase");
    if (!get_base)
        return td_err_set(err, TD_EINPUT,
                          "%s: has no OrtGetApiBase, so it is not ONNX "
                          "Runtime; %s", path, install_hint);
    const td_ort_api_base *base = get_base();
    const char *ver = base && base->GetVersionString ? base->GetVersionString()
                                                     : NULL;
    snprintf(rt->version, sizeof rt->version, "%s", ver ? ver : "unknown");
    rt->api = base && base->GetApi ? base->GetApi(TD_ORT_API_VERSION) : NULL;
    if (!rt->api)
        return td_err_set(err, TD_EINPUT,
                          "%s: ONNX Runtime %s does not offer C API version "
                          "%u (ORT 1.0 or newer is needed); %s", path,
                          rt->version, TD_ORT_API_VERSION, install_hint);
    td_status s = td_rt_status(
        rt, rt->api->CreateEnvWithCustomLogger(quiet_log, NULL,
                                               TD_ORT_LOG_ERROR, "onnxtd",
                                               &rt->env),
        err, "%s: creating the environment", path);
    /* the events of this environment too, where the variable came late
     * (an ORT loaded before onnxtd set it); a failure here changes no
     * result, so it is not one */
    if (!s) {
        OrtStatus *st = rt->api->DisableTelemetryEvents(rt->env);
        if (st)
            rt->api->ReleaseStatus(st);
    }
    return s;
}

td_status td_rt_open(const char *lib_path, td_rt **out, td_err_t *err)
{
    *out = NULL;
    td_rt *rt = calloc(1, sizeof *rt);
    if (!rt)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    char tried[2048] = "";
    const char *env = getenv(TD_RT_ENV_LIB), *used = NULL;
    telemetry_off();
    td_status s = TD_OK;
    if (lib_path || (env && *env)) {
        /* A library the user named is the only one tried: falling back to
         * another would measure something they did not ask for. */
        used = lib_path ? lib_path : env;
        /* A bare name goes through the system's search, like dlopen's. */
        struct stat st;
        if (strchr(used, '/') && stat(used, &st) != 0) {
            s = td_err_set(err, TD_EINPUT, "%s%s: no such file; %s",
                           lib_path ? "" : TD_RT_ENV_LIB "=", used,
                           install_hint);
            goto cleanup;
        }
        rt->dl = open_one(used, tried, sizeof tried);
    } else {
        if (*TD_ORT_DEFAULT_LIB && (rt->dl = open_one(TD_ORT_DEFAULT_LIB, tried,
                                                      sizeof tried)))
            used = TD_ORT_DEFAULT_LIB;
        else if ((rt->dl = open_one(TD_ORT_SONAME, tried, sizeof tried)))
            used = TD_ORT_SONAME;
    }
    if (!rt->dl) {
        s = td_err_set(err, TD_EINPUT, "ONNX Runtime not found: tried %s; %s",
                       tried, install_hint);
        goto cleanup;
    }
    if (!(rt->path = strdup(used))) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((s = bind_api(rt, used, err)))
        goto cleanup;
    *out = rt;
    return TD_OK;
cleanup:
    td_rt_close(rt);
    return s;
}

void td_rt_close(td_rt *rt)
{
    if (!rt)
        return;
    if (rt->env)
        rt->api->ReleaseEnv(rt->env);
    if (rt->dl)
        dlclose(rt->dl);
    free(rt->path);
    free(rt);
}

const char *td_rt_version(const td_rt *rt)
{
    return rt->version;
}

const char *td_rt_library(const td_rt *rt)
{
    return rt->path;
}
