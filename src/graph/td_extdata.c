#include "td_extdata.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct mapped {
    char *loc;
    uint64_t dev, ino;
    const uint8_t *data;
    size_t len;
};

struct td_extfiles {
    char *dir;
    char *dir_real;  /* resolved once: the folder everything must stay in */
    struct mapped *files;
    size_t n, cap;
};

td_status td_extfiles_new(const char *dir, td_extfiles **out, td_err_t *err)
{
    *out = NULL;
    td_extfiles *x = calloc(1, sizeof *x);
    if (!x || !(x->dir = strdup(dir))) {
        td_extfiles_free(x);
        return td_err_set(err, TD_ENOMEM, "out of memory");
    }
    x->dir_real = realpath(dir, NULL);
    if (!x->dir_real) {
        td_status s = errno == ENOMEM
            ? td_err_set(err, TD_ENOMEM, "out of memory")
            : td_err_set(err, TD_EIO, "cannot resolve the model's folder: %s",
                         strerror(errno));
        td_extfiles_free(x);
        return s;
    }
    *out = x;
    return TD_OK;
}

void td_extfiles_free(td_extfiles *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++) {
        if (x->files[i].len)
            munmap((void *)x->files[i].data, x->files[i].len);
        free(x->files[i].loc);
    }
    free(x->files);
    free(x->dir);
    free(x->dir_real);
    free(x);
}

size_t td_extfiles_count(const td_extfiles *x)
{
    return x->n;
}

const char *td_extfiles_file(const td_extfiles *x, size_t i, uint64_t *dev,
                             uint64_t *ino)
{
    *dev = x->files[i].dev;
    *ino = x->files[i].ino;
    return x->files[i].loc;
}

const char *td_extfiles_dir(const td_extfiles *x)
{
    return x->dir;
}

td_status td_extdata_check_location(const char *loc, td_err_t *err)
{
    if (!loc || !*loc)
        return td_err_set(err, TD_EINPUT, "external data location is empty");
    if (loc[0] == '/' || loc[0] == '\\')
        return td_err_set(err, TD_EINPUT,
                          "external data location '%s' is an absolute path",
                          loc);
    /* ".." as any path component, with either separator. */
    const char *p = loc;
    while (*p) {
        size_t n = strcspn(p, "/\\");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return td_err_set(err, TD_EINPUT,
                              "external data location '%s' contains '..'", loc);
        p += n;
        if (*p)
            p++;
    }
    return TD_OK;
}

/* Strict decimal: digits only, no sign, no overflow. */
static int parse_u64(const char *s, uint64_t *v)
{
    if (!s || !*s)
        return -1;
    uint64_t r = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (r > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -1;
        r = r * 10 + (uint64_t)(*s - '0');
    }
    *v = r;
    return 0;
}

static td_status map_file(td_extfiles *x, const char *loc, struct mapped **out,
                          td_err_t *err)
{
    for (size_t i = 0; i < x->n; i++)
        if (strcmp(x->files[i].loc, loc) == 0) {
            *out = &x->files[i];
            return TD_OK;
        }
    td_status s = td_extdata_check_location(loc, err);
    if (s)
        return s;
    int dfd = open(x->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return td_err_set(err, TD_EIO, "cannot open folder '%s': %s", x->dir,
                          strerror(errno));
    /* O_NONBLOCK: a FIFO (or device) shipped in the model's folder would
     * otherwise block the open until a writer appears; the regular-file
     * check below refuses it once opened. Reads of regular files ignore
     * the flag. */
    int fd = openat(dfd, loc, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    int e = errno;
    close(dfd);
    if (fd < 0)
        return td_err_set(err, TD_EIO, "external data file '%s': %s", loc,
                          strerror(e));
    /* Where did the open really land? Resolving the opened descriptor, not
     * the name, leaves no window between the check and the use. */
    char link[64], real[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t rn = readlink(link, real, sizeof real - 1);
    struct stat st;
    size_t dl = strlen(x->dir_real);
    if (rn < 0 || fstat(fd, &st) != 0) {
        s = td_err_set(err, TD_EIO, "external data file '%s': cannot resolve",
                       loc);
        goto fail;
    }
    real[rn] = '\0';
    if (strncmp(real, x->dir_real, dl) != 0 ||
        (real[dl] != '/' && strcmp(x->dir_real, "/") != 0)) {
        s = td_err_set(err, TD_EINPUT,
                       "external data file '%s' leads out of the model's "
                       "folder (to '%s')", loc, real);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        s = td_err_set(err, TD_EINPUT,
                       "external data file '%s' is not a regular file", loc);
        goto fail;
    }
    if (st.st_nlink > 1) {
        s = td_err_set(err, TD_EINPUT,
                       "external data file '%s' has %lu hard links; refused "
                       "(it may be a file outside the model's folder)",
                       loc, (unsigned long)st.st_nlink);
        goto fail;
    }
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 4;
        struct mapped *f = realloc(x->files, cap * sizeof *f);
        if (!f) {
            s = td_err_set(err, TD_ENOMEM, "out of memory");
            goto fail;
        }
        x->files = f;
        x->cap = cap;
    }
    struct mapped *m = &x->files[x->n];
    m->len = (size_t)st.st_size;
    m->data = (const uint8_t *)"";
    if (m->len) {
        void *p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            s = td_err_set(err, TD_EIO, "external data file '%s': mmap: %s",
                           loc, strerror(errno));
            goto fail;
        }
        m->data = p;
    }
    m->dev = (uint64_t)st.st_dev;
    m->ino = (uint64_t)st.st_ino;
    m->loc = strdup(loc);
    if (!m->loc) {
        if (m->len)
            munmap((void *)m->data, m->len);
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto fail;
    }
    x->n++;
    close(fd);
    *out = m;
    return TD_OK;
fail:
    close(fd);
    return s;
}

td_status td_extdata_read(td_extfiles *x, const Onnx__TensorProto *t,
                          const uint8_t **data, size_t *len, td_err_t *err)
{
    const char *name = t->name ? t->name : "";
    const char *loc = NULL, *off_s = NULL, *len_s = NULL;
    for (size_t i = 0; i < t->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = t->external_data[i];
        if (!e->key)
            continue;
        if (!strcmp(e->key, "location"))
            loc = e->value;
        else if (!strcmp(e->key, "offset"))
            off_s = e->value;
        else if (!strcmp(e->key, "length"))
            len_s = e->value;
    }
    if (!loc)
        return td_err_set(err, TD_EINPUT,
                          "tensor '%s': external data without a location", name);
    uint64_t off = 0, length = 0;
    if (off_s && parse_u64(off_s, &off))
        return td_err_set(err, TD_EINPUT,
                          "tensor '%s': external data offset '%s' is not a "
                          "non-negative integer", name, off_s);
    if (len_s && parse_u64(len_s, &length))
        return td_err_set(err, TD_EINPUT,
                          "tensor '%s': external data length '%s' is not a "
                          "non-negative integer", name, len_s);
    struct mapped *m;
    td_status s = map_file(x, loc, &m, err);
    if (s)
        return td_err_prefix(err, "tensor '%s': ", name);
    uint64_t size = m->len;
    if (!len_s) {
        if (off > size)
            return td_err_set(err, TD_EINPUT,
                              "tensor '%s': offset %llu is past the end of "
                              "'%s' (%llu bytes)", name,
                              (unsigned long long)off, loc,
                              (unsigned long long)size);
        length = size - off;
    }
    if (length > size || off > size - length)
        return td_err_set(err, TD_EINPUT,
                          "tensor '%s': external data '%s' has %llu bytes, "
                          "shorter than offset %llu + length %llu",
                          name, loc, (unsigned long long)size,
                          (unsigned long long)off, (unsigned long long)length);
    *data = m->data + off;
    *len = (size_t)length;
    return TD_OK;
}
