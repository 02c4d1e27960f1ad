/* The caller's own evaluation of a model: the model written to a private
 * temporary file, scored by the caller, the file removed; see td_calib.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calib/td_calib.h"

/* Writes buf whole to fd, going on after short writes and EINTR. */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t k = write(fd, buf, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        buf += k;
        len -= (size_t)k;
    }
    return 0;
}

td_status td_judge_model(const td_judge *j, td_model *m, td_graph *g,
                         double *score, td_err_t *err)
{
    const char *name = j->name ? j->name : "judge";
    uint8_t *buf = NULL;
    size_t len = 0;
    td_status s = td_model_pack(m, g, &buf, &len, err);
    if (s)
        return s;
    /* a folder of the user's choosing (TMPDIR), a name nobody else has
     * (mkstemps: O_EXCL, mode 0600), removed whatever the judge did */
    const char *dir = getenv("TMPDIR");
    if (!dir || !dir[0])
        dir = "/tmp";
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/onnxtd-judge-XXXXXX.onnx", dir);
    if (n < 0 || (size_t)n >= sizeof path) {
        free(buf);
        return td_err_set(err, TD_EIO, "TMPDIR '%s' is too long", dir);
    }
    int fd = mkstemps(path, 5);
    if (fd < 0) {
        int e = errno;
        free(buf);
        return td_err_set(err, TD_EIO, "creating a temporary model for %s "
                          "in %s: %s", name, dir, strerror(e));
    }
    int bad = write_all(fd, buf, len);
    int e = errno;
    free(buf);
    if (close(fd) && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(path);
        return td_err_set(err, TD_EIO, "writing %s for %s: %s", path, name,
                          strerror(e));
    }
    char msg[512] = "";
    double v = NAN;
    int rc = j->fn(j->ctx, path, &v, msg, sizeof msg);
    unlink(path);
    msg[sizeof msg - 1] = '\0';
    if (rc)
        return td_err_set(err, TD_EINPUT, "the judge (%s) failed: %s",
                          name, msg[0] ? msg : "no message");
    if (!isfinite(v))
        return td_err_set(err, TD_EINPUT, "the judge (%s) gave no finite "
                          "score (%g)", name, v);
    *score = v;
    return TD_OK;
}

td_status td_calib_measure_judged(td_calib *c, td_model *m, td_graph *g,
                                  const td_bound_report *br, td_measured *out,
                                  td_err_t *err)
{
    td_status s = c ? td_calib_measure_graph(c, m, g, 0, out, err) : TD_OK;
    if (s || !br || !br->judge)
        return s;
    if ((s = td_judge_model(br->judge, m, g, &out->score, err)))
        return s;
    out->judge = br->judge->name ? br->judge->name : "judge";
    return TD_OK;
}
