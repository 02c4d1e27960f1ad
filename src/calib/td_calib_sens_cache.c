/* The measured sensitivity's cache file and its key; see td_calib_sens.h.
 *
 * Format (text, one layer a line, the name last since it may hold
 * spaces):
 *   onnxtd-sensitivity 1
 *   key <16 hex digits>
 *   probe <groups> <inputs>
 *   w <weight> <name>
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calib/td_calib_sens_int.h"
#include "graph/td_atomic.h"

#define SENS_MAGIC "onnxtd-sensitivity 1"
#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * FNV_PRIME;
    return h;
}

td_sens *td_sens_alloc(size_t n)
{
    td_sens *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->names = calloc(n ? n : 1, sizeof *s->names);
    s->w = malloc((n ? n : 1) * sizeof *s->w);
    if (!s->names || !s->w) {
        td_sens_free(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        s->w[i] = 1;
    s->n = n;
    return s;
}

td_status td_sens_key(td_calib *c, td_model *m, const td_compress_opts *o,
                      const char *const *outputs, size_t n_outputs,
                      const unsigned char *use, size_t groups, uint64_t *key,
                      td_err_t *err)
{
    uint8_t *buf = NULL;
    size_t len = 0, n;
    td_status s = td_model_pack(m, NULL, &buf, &len, err);
    if (s)
        return s;
    uint64_t h = fnv(FNV_OFFSET, buf, len);
    free(buf);
    /* what decides the probe besides the model and the inputs */
    double lam = o->stats_lambda;
    int set[6] = {o->method_auto, (int)o->method, o->allow_slower, o->force,
                  groups < INT_MAX ? (int)groups : INT_MAX, TD_SENS_INPUTS};
    double ratio = TD_SENS_PROBE_RATIO;
    h = fnv(h, set, sizeof set);
    h = fnv(h, &lam, sizeof lam);
    h = fnv(h, &ratio, sizeof ratio);
    /* the outputs measured, when not all (a cache of every output's
     * keeps its key) */
    for (size_t i = 0; i < n_outputs; i++)
        h = fnv(h, outputs[i], strlen(outputs[i]) + 1);
    td_samples *smp = td_calib_samples(c);
    td_calib_calibration_set(c, &n);
    size_t n_in = 0;
    const char **names = NULL;
    if ((s = td_calib_input_names(m, &names, &n_in, err)))
        return s;
    free(names);
    for (size_t i = 0; i < n; i++) {
        td_array *in = NULL;
        if (!use[i])
            continue;
        if ((s = td_samples_read(smp, i, &in, err)))
            return s;
        for (size_t k = 0; k < n_in; k++)
            h = fnv(h, in[k].data, in[k].nbytes);
        td_array_free_n(in, n_in);
    }
    *key = h;
    return TD_OK;
}

/* One "w <weight> <name>" line into s's slot i. */
static int parse_layer(const char *line, td_sens *s, size_t i)
{
    char *end;
    if (strncmp(line, "w ", 2))
        return -1;
    double w = strtod(line + 2, &end);
    if (end == line + 2 || *end != ' ' || !(w >= 0))
        return -1;
    size_t len = strcspn(end + 1, "\n");
    if (!len || !(s->names[i] = strndup(end + 1, len)))
        return -1;
    s->w[i] = w;
    return 0;
}

/* Reads an open cache after its magic line: NULL when its key is another
 * (or it is truncated: then it is measured and written again). */
static td_sens *read_body(FILE *f, uint64_t key)
{
    char *line = NULL;
    size_t cap = 0, n = 0, groups = 0, inputs = 0, count = 0;
    uint64_t k = 0;
    td_sens *s = NULL;
    if (getline(&line, &cap, f) < 0 || sscanf(line, "key %" SCNx64, &k) != 1 ||
        k != key || getline(&line, &cap, f) < 0 ||
        sscanf(line, "probe %zu %zu %zu", &groups, &inputs, &count) != 3 ||
        count > ((size_t)1 << 24) || !(s = td_sens_alloc(count)))
        goto fail;
    for (n = 0; n < count; n++)
        if (getline(&line, &cap, f) < 0 || parse_layer(line, s, n))
            goto fail;
    s->info.groups = groups;
    s->info.inputs = inputs;
    s->info.layers = count;
    free(line);
    return s;
fail:
    free(line);
    td_sens_free(s);
    return NULL;
}

td_status td_sens_load(const char *path, uint64_t key, td_sens **out,
                       td_err_t *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return TD_OK;
        return td_err_set(err, TD_EIO, "%s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return td_err_set(err, TD_EUSAGE, "options.sens_cache '%s' is not a "
                          "regular file", path);
    FILE *f = fopen(path, "r");
    if (!f)
        return td_err_set(err, TD_EIO, "%s: %s", path, strerror(errno));
    char magic[sizeof SENS_MAGIC + 1] = "";
    if (!fgets(magic, sizeof magic, f) ||
        strncmp(magic, SENS_MAGIC "\n", sizeof magic)) {
        fclose(f);
        return td_err_set(err, TD_EUSAGE, "options.sens_cache '%s' is not a "
                          "sensitivity cache of onnxtd (its first line is not "
                          "'" SENS_MAGIC "'): not overwritten", path);
    }
    *out = read_body(f, key);
    fclose(f);
    return TD_OK;
}

td_status td_sens_save(const char *path, uint64_t key, const td_sens *s,
                       td_err_t *err)
{
    td_atomic f;
    char line[128];
    td_status st = td_atomic_open(&f, path, err);
    if (st)
        return st;
    int len = snprintf(line, sizeof line, SENS_MAGIC "\nkey %016" PRIx64
                       "\nprobe %zu %zu %zu\n", key, s->info.groups,
                       s->info.inputs, s->n);
    td_atomic_write(&f, line, (size_t)len);
    for (size_t i = 0; i < s->n; i++) {
        /* %.17g: the weights read back are the ones written */
        len = snprintf(line, sizeof line, "w %.17g ", s->w[i]);
        td_atomic_write(&f, line, (size_t)len);
        td_atomic_write(&f, s->names[i], strlen(s->names[i]));
        td_atomic_write(&f, "\n", 1);
    }
    if ((st = td_atomic_finish(&f, err)))
        return st;
    return td_atomic_place(&f, err);
}
