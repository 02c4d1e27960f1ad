#include "data/td_samples.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/td_npy.h"
#include "data/td_pbtensor.h"
#include "data/td_readfile.h"

typedef struct sample {
    char *label;
    char **in;      /* n_inputs paths */
    char **out;     /* expected outputs, n_out paths */
    size_t n_out;
} sample;

struct td_samples {
    const char *const *inputs;
    size_t n_inputs;
    sample *v;
    size_t n, cap;
};

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p) {
        memcpy(p, dir, a);
        p[a] = '/';
        memcpy(p + a + 1, name, b + 1);
    }
    return p;
}

static void sample_clear(sample *x, size_t n_inputs)
{
    free(x->label);
    for (size_t i = 0; x->in && i < n_inputs; i++)
        free(x->in[i]);
    free(x->in);
    for (size_t k = 0; k < x->n_out; k++)
        free(x->out[k]);
    free(x->out);
}

/* Appends an empty sample labelled `label`; NULL on out-of-memory. */
static sample *add_sample(td_samples *s, const char *label)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        sample *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return NULL;
        s->v = v;
        s->cap = cap;
    }
    sample *x = &s->v[s->n];
    memset(x, 0, sizeof *x);
    x->label = strdup(label);
    x->in = calloc(s->n_inputs ? s->n_inputs : 1, sizeof *x->in);
    if (!x->label || !x->in) {
        sample_clear(x, s->n_inputs);
        return NULL;
    }
    s->n++;
    return x;
}

/* Sorted names of a folder's entries (not . or ..). */
static td_status list_dir(const char *dir, char ***names, size_t *n,
                          td_err_t *err)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return td_err_set(err, TD_EIO, "%s: %s", dir, strerror(errno));
    size_t cap = 0;
    char **v = NULL;
    td_status s = TD_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 32;
            char **nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                s = td_err_set(err, TD_ENOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        if (!(v[*n] = strdup(e->d_name))) {
            s = td_err_set(err, TD_ENOMEM, "out of memory");
            break;
        }
        ++*n;
    }
    closedir(d);
    *names = v;
    return s;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "PREFIXN.pb" -> N, or -1. */
static long index_of(const char *name, const char *prefix, const char *suffix)
{
    size_t p = strlen(prefix);
    if (strncmp(name, prefix, p) || !ends_with(name, suffix))
        return -1;
    const char *q = name + p;
    size_t digits = strlen(q) - strlen(suffix);
    if (!digits || digits > 6)
        return -1;
    long v = 0;
    for (size_t i = 0; i < digits; i++) {
        if (q[i] < '0' || q[i] > '9')
            return -1;
        v = v * 10 + (q[i] - '0');
    }
    return v;
}

static int by_set_index(const void *a, const void *b)
{
    long x = index_of(*(char *const *)a, "test_data_set_", "");
    long y = index_of(*(char *const *)b, "test_data_set_", "");
    return (x > y) - (x < y);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* One test_data_set folder: input_K.pb for every input, output_K.pb
 * numbered from 0 without gaps. */
static td_status add_test_set(td_samples *s, const char *dir, td_err_t *err)
{
    char **names = NULL;
    size_t n = 0, n_out = 0;
    td_status st = list_dir(dir, &names, &n, err);
    if (st)
        goto cleanup;
    sample *x = add_sample(s, dir);
    if (!x) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        long k = index_of(names[i], "input_", ".pb");
        if (k < 0)
            k = index_of(names[i], "input_", ".npy");
        long o = index_of(names[i], "output_", ".pb");
        if (k >= 0) {
            if ((size_t)k >= s->n_inputs) {
                st = td_err_set(err, TD_EINPUT, "%s/%s: the model has %zu "
                                "input%s (initializers excluded)", dir, names[i],
                                s->n_inputs, s->n_inputs == 1 ? "" : "s");
                goto cleanup;
            }
            if (x->in[k]) {
                st = td_err_set(err, TD_EINPUT, "%s: input_%ld is given twice "
                                "(.pb and .npy)", dir, k);
                goto cleanup;
            }
            if (!(x->in[k] = join(dir, names[i]))) {
                st = td_err_set(err, TD_ENOMEM, "out of memory");
                goto cleanup;
            }
        } else if (o >= 0 && (size_t)o + 1 > n_out) {
            n_out = (size_t)o + 1;
        }
    }
    for (size_t k = 0; k < s->n_inputs; k++)
        if (!x->in[k]) {
            st = td_err_set(err, TD_EINPUT, "%s: no input_%zu.pb for the "
                            "model's input %zu '%s'", dir, k, k, s->inputs[k]);
            goto cleanup;
        }
    if (n_out && !(x->out = calloc(n_out, sizeof *x->out))) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    x->n_out = n_out;
    for (size_t k = 0; k < n_out; k++) {
        char name[32];
        snprintf(name, sizeof name, "output_%zu.pb", k);
        if (!(x->out[k] = join(dir, name))) {
            st = td_err_set(err, TD_ENOMEM, "out of memory");
            goto cleanup;
        }
        struct stat sb;
        if (stat(x->out[k], &sb) != 0) {
            st = td_err_set(err, TD_EINPUT, "%s: output_%zu.pb is missing "
                            "while a later output_K.pb exists", dir, k);
            goto cleanup;
        }
    }
cleanup:
    free_names(names, n);
    return st;
}

static td_status need_one_input(const td_samples *s, const char *src,
                                td_err_t *err)
{
    if (s->n_inputs == 1)
        return TD_OK;
    return td_err_set(err, TD_EINPUT, "%s: one file per sample fits a model "
                      "with one input; this one has %zu: use ONNX's "
                      "test_data_set_N/input_K.pb layout or a manifest (one "
                      "sample per line, NAME=PATH for each input)", src,
                      s->n_inputs);
}

static td_status add_file(td_samples *s, const char *path, td_err_t *err)
{
    sample *x = add_sample(s, path);
    if (!x || !(x->in[0] = strdup(path)))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    return TD_OK;
}

static td_status add_dir(td_samples *s, const char *dir, td_err_t *err)
{
    char **names = NULL;
    size_t n = 0;
    td_status st = list_dir(dir, &names, &n, err);
    if (st)
        goto cleanup;
    size_t sets = 0, inputs = 0, files = 0;
    for (size_t i = 0; i < n; i++) {
        if (index_of(names[i], "test_data_set_", "") >= 0)
            sets++;
        else if (index_of(names[i], "input_", ".pb") >= 0 ||
                 index_of(names[i], "input_", ".npy") >= 0)
            inputs++;
        else if (ends_with(names[i], ".npy") || ends_with(names[i], ".pb"))
            files++;
    }
    if (sets) {
        qsort(names, n, sizeof *names, by_name);
        char **set_names = calloc(sets, sizeof *set_names);
        size_t j = 0;
        if (!set_names) {
            st = td_err_set(err, TD_ENOMEM, "out of memory");
            goto cleanup;
        }
        for (size_t i = 0; i < n; i++)
            if (index_of(names[i], "test_data_set_", "") >= 0)
                set_names[j++] = names[i];
        qsort(set_names, sets, sizeof *set_names, by_set_index);
        for (j = 0; j < sets && !st; j++) {
            char *sub = join(dir, set_names[j]);
            if (!sub)
                st = td_err_set(err, TD_ENOMEM, "out of memory");
            else if (is_dir(sub))
                st = add_test_set(s, sub, err);
            free(sub);
        }
        free(set_names);
    } else if (inputs) {
        st = add_test_set(s, dir, err);
    } else if (files) {
        if ((st = need_one_input(s, dir, err)))
            goto cleanup;
        qsort(names, n, sizeof *names, by_name);
        for (size_t i = 0; i < n && !st; i++) {
            if (!ends_with(names[i], ".npy") && !ends_with(names[i], ".pb"))
                continue;
            char *p = join(dir, names[i]);
            if (!p) {
                st = td_err_set(err, TD_ENOMEM, "out of memory");
                break;
            }
            st = add_file(s, p, err);
            free(p);
        }
    } else {
        st = td_err_set(err, TD_EINPUT, "%s: holds no test_data_set_N folders, "
                        "input_K.pb files or .npy files", dir);
    }
cleanup:
    free_names(names, n);
    return st;
}

/* One manifest line (NUL-terminated, modified in place) -> one sample. */
static td_status add_manifest_line(td_samples *s, const char *path,
                                   const char *base, size_t line_no,
                                   char *line, td_err_t *err)
{
    char label[600];
    snprintf(label, sizeof label, "%s:%zu", path, line_no);
    sample *x = add_sample(s, label);
    if (!x)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    char *save = NULL;
    for (char *tok = strtok_r(line, " \t\r", &save); tok;
         tok = strtok_r(NULL, " \t\r", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1])
            return td_err_set(err, TD_EINPUT, "%s: '%s' is not NAME=PATH",
                              label, tok);
        *eq = '\0';
        size_t k = 0;
        while (k < s->n_inputs && strcmp(s->inputs[k], tok))
            k++;
        if (k == s->n_inputs)
            return td_err_set(err, TD_EINPUT, "%s: the model has no input "
                              "named '%s'", label, tok);
        if (x->in[k])
            return td_err_set(err, TD_EINPUT, "%s: input '%s' is given twice",
                              label, tok);
        x->in[k] = eq[1] == '/' ? strdup(eq + 1) : join(base, eq + 1);
        if (!x->in[k])
            return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < s->n_inputs; k++)
        if (!x->in[k])
            return td_err_set(err, TD_EINPUT, "%s: no file for input '%s'",
                              label, s->inputs[k]);
    return TD_OK;
}

static td_status add_manifest(td_samples *s, const char *path, td_err_t *err)
{
    unsigned char *buf = NULL;
    size_t len = 0, before = s->n;
    td_status st = td_read_file(path, (size_t)64 << 20, &buf, &len, err);
    if (st)
        return st;
    if (memchr(buf, '\0', len)) {
        st = td_err_set(err, TD_EINPUT, "%s: not a .npy, .pb or manifest file "
                        "(a manifest is text: NAME=PATH per input, one sample "
                        "per line)", path);
        goto cleanup;
    }
    char *base = strdup(path), *slash = base ? strrchr(base, '/') : NULL;
    if (!base) {
        st = td_err_set(err, TD_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (slash)
        *slash = '\0';
    else
        strcpy(base, ".");
    char *p = (char *)buf;
    for (size_t line_no = 1; p && *p && !st; line_no++) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        char *q = p + strspn(p, " \t\r");
        if (*q && *q != '#')
            st = add_manifest_line(s, path, base, line_no, q, err);
        p = nl ? nl + 1 : NULL;
    }
    free(base);
    if (!st && s->n == before)
        st = td_err_set(err, TD_EINPUT, "%s: the manifest lists no sample",
                        path);
cleanup:
    free(buf);
    return st;
}

static td_status add_source(td_samples *s, const char *src, td_err_t *err)
{
    struct stat st;
    if (stat(src, &st) != 0)
        return td_err_set(err, TD_EINPUT, "%s: %s", src, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return add_dir(s, src, err);
    if (ends_with(src, ".npy") || ends_with(src, ".pb")) {
        td_status r = need_one_input(s, src, err);
        return r ? r : add_file(s, src, err);
    }
    return add_manifest(s, src, err);
}

td_status td_samples_open(const char *const *srcs, size_t n_srcs,
                          const char *const *inputs, size_t n_inputs,
                          td_samples **out, td_err_t *err)
{
    *out = NULL;
    td_samples *s = calloc(1, sizeof *s);
    if (!s)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    s->inputs = inputs;
    s->n_inputs = n_inputs;
    td_status st = TD_OK;
    for (size_t i = 0; i < n_srcs && !st; i++)
        st = add_source(s, srcs[i], err);
    if (!st && !s->n)
        st = td_err_set(err, TD_EUSAGE, "no input sources given");
    if (st) {
        td_samples_free(s);
        return st;
    }
    *out = s;
    return TD_OK;
}

void td_samples_free(td_samples *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        sample_clear(&s->v[i], s->n_inputs);
    free(s->v);
    free(s);
}

size_t td_samples_count(const td_samples *s)
{
    return s->n;
}

const char *td_samples_label(const td_samples *s, size_t i)
{
    return s->v[i].label;
}

/* A .npy by its name, anything else as a TensorProto. */
static td_status read_tensor(const char *path, td_array *a, td_err_t *err)
{
    return ends_with(path, ".npy") ? td_npy_read(path, a, err)
                                   : td_pbtensor_read(path, a, err);
}

td_status td_samples_read(const td_samples *s, size_t i, td_array **arrays,
                          td_err_t *err)
{
    *arrays = NULL;
    const sample *x = &s->v[i];
    td_array *a = calloc(s->n_inputs ? s->n_inputs : 1, sizeof *a);
    if (!a)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    td_status st = TD_OK;
    for (size_t k = 0; k < s->n_inputs && !st; k++) {
        if ((st = read_tensor(x->in[k], &a[k], err)))
            break;
        /* The model's name wins: ONNX's test data maps input_K.pb by
         * position, whatever name the tensor carries. */
        free(a[k].name);
        if (!(a[k].name = strdup(s->inputs[k])))
            st = td_err_set(err, TD_ENOMEM, "out of memory");
    }
    if (st) {
        td_array_free_n(a, s->n_inputs);
        return st;
    }
    *arrays = a;
    return TD_OK;
}

size_t td_samples_n_expected(const td_samples *s, size_t i)
{
    return s->v[i].n_out;
}

td_status td_samples_read_expected(const td_samples *s, size_t i, size_t k,
                                   td_array *out, td_err_t *err)
{
    if (k >= s->v[i].n_out)
        return td_err_set(err, TD_EINPUT, "%s: no output_%zu.pb",
                          s->v[i].label, k);
    return td_pbtensor_read(s->v[i].out[k], out, err);
}
