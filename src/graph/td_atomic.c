#include "td_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

enum { STAGE = 1 << 20 };

static char *dir_of(const char *path)
{
    char *c = strdup(path);
    if (!c)
        return NULL;
    char *d = strdup(dirname(c));
    free(c);
    return d;
}

td_status td_atomic_open(td_atomic *f, const char *target, td_err_t *err)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    char *dir = dir_of(target);
    f->target = strdup(target);
    f->stage = malloc(STAGE);
    /* A fixed short name, not the target's own name plus a suffix: a
     * target name of NAME_MAX bytes must still leave room for the temp. */
    size_t n = dir ? strlen(dir) + sizeof "/.onnxtd.XXXXXX" : 0;
    f->temp = n ? malloc(n) : NULL;
    if (!dir || !f->target || !f->stage || !f->temp) {
        free(dir);
        td_atomic_abort(f);
        return td_err_set(err, TD_ENOMEM, "%s: out of memory", target);
    }
    /* The temp file lives in the target's folder so rename stays atomic. */
    snprintf(f->temp, n, "%s/.onnxtd.XXXXXX", dir);
    /* Preferably the temp file has no name until it is complete: a process
     * killed while writing then leaves nothing behind. Linking it in later
     * goes through /proc/self/fd, so without /proc use a named temp. */
    if (access("/proc/self/fd", X_OK) == 0) {
        f->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
        if (f->fd >= 0) {
            f->unnamed = 1;
            free(dir);
            return TD_OK;
        }
    }
    free(dir);
    f->fd = mkstemp(f->temp);
    if (f->fd < 0) {
        int e = errno;
        free(f->temp);
        f->temp = NULL;
        td_atomic_abort(f);
        return td_err_set(err, TD_EIO, "%s: cannot create a file in its "
                          "folder: %s", target, strerror(e));
    }
    /* mkstemp makes 0600; give the usual mode a new file would get. */
    mode_t um = umask(0);
    umask(um);
    fchmod(f->fd, 0666 & ~um);
    return TD_OK;
}

static void flush(td_atomic *f, const uint8_t *p, size_t len)
{
    while (len && !f->failed_errno) {
        ssize_t w = write(f->fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            f->failed_errno = errno;
            return;
        }
        p += w;
        len -= (size_t)w;
    }
}

void td_atomic_write(td_atomic *f, const void *data, size_t len)
{
    /* protobuf-c appends empty bytes fields (an attribute's s of length 0)
     * as (NULL, 0); memcpy from NULL is undefined even for 0 bytes. */
    if (f->failed_errno || len == 0)
        return;
    f->written += len;
    if (f->staged + len > STAGE) {
        flush(f, f->stage, f->staged);
        f->staged = 0;
    }
    if (len >= STAGE) {
        flush(f, data, len);
        return;
    }
    memcpy(f->stage + f->staged, data, len);
    f->staged += len;
}

void td_atomic_copy_range(td_atomic *f, int in_fd, uint64_t off, size_t len,
                          const void *same)
{
    if (f->failed_errno)
        return;
    flush(f, f->stage, f->staged);
    f->staged = 0;
    size_t done = 0;
    loff_t in_off = (loff_t)off;
    while (done < len && !f->failed_errno) {
        ssize_t n = copy_file_range(in_fd, &in_off, f->fd, NULL, len - done, 0);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            /* Not supported across these files (or a short source): write
             * the rest from memory. */
            flush(f, (const uint8_t *)same + done, len - done);
            done = len;
        }
    }
    f->written += len;
}

/* Gives the complete unnamed temp file the name f->temp (whose last six
 * characters are replaced by random ones until the name is free), so the
 * rename that follows is the usual atomic replace. */
static int name_temp(td_atomic *f)
{
    static const char az[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
    char *x = f->temp + strlen(f->temp) - 6;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char r[6];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
            return -1;
        for (int i = 0; i < 6; i++)
            x[i] = az[r[i] % (sizeof az - 1)];
        if (linkat(AT_FDCWD, proc, AT_FDCWD, f->temp, AT_SYMLINK_FOLLOW) == 0) {
            f->unnamed = 0;
            return 0;
        }
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

/* A file replaced keeps what its owner set: its permission bits and, when
 * we may give it away (root), its owner. */
static void keep_mode(td_atomic *f)
{
    struct stat st;
    if (stat(f->target, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    if ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
        fchown(f->fd, st.st_uid, st.st_gid) != 0) {
        /* not ours to give: the file becomes the writer's, as with cp */
    }
    if (fchmod(f->fd, st.st_mode & 07777) != 0)
        f->failed_errno = errno;
}

td_status td_atomic_finish(td_atomic *f, td_err_t *err)
{
    flush(f, f->stage, f->staged);
    f->staged = 0;
    if (!f->failed_errno)
        keep_mode(f);
    if (!f->failed_errno && fsync(f->fd) != 0)
        f->failed_errno = errno;
    if (!f->failed_errno && f->unnamed && name_temp(f) != 0)
        f->failed_errno = errno;
    if (!f->failed_errno && close(f->fd) != 0)
        f->failed_errno = errno;
    else if (f->failed_errno)
        close(f->fd);
    f->fd = -1;
    if (f->failed_errno) {
        td_status s = td_err_set(err, TD_EIO, "%s: cannot write: %s",
                                 f->target, strerror(f->failed_errno));
        td_atomic_abort(f);
        return s;
    }
    return TD_OK;
}

td_status td_atomic_place(td_atomic *f, td_err_t *err)
{
    if (rename(f->temp, f->target) != 0) {
        td_status s = td_err_set(err, TD_EIO, "%s: cannot write: %s",
                                 f->target, strerror(errno));
        td_atomic_abort(f);
        return s;
    }
    char *dir = dir_of(f->target);
    int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd >= 0) {
        fsync(dfd);  /* make the rename itself durable */
        close(dfd);
    }
    free(dir);
    free(f->temp);
    f->temp = NULL;
    td_atomic_abort(f);
    return TD_OK;
}

void td_atomic_abort(td_atomic *f)
{
    if (f->fd >= 0)
        close(f->fd);
    if (f->temp && !f->unnamed)
        unlink(f->temp);
    free(f->temp);
    free(f->target);
    free(f->stage);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}
