#include "td_outputs.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "td_atomic.h"
#include "td_extdata.h"

/* A file read or written, as far as its identity goes. An existing file is
 * its device and inode, so a second name (hard link, symbolic link, "./x")
 * is still the same file; an absent one is its folder's identity and its
 * name, which is what the write will create. */
struct ent {
    const char *path;  /* as named (borrowed, or own) */
    const char *role;
    int known;         /* 0: cannot be identified (its folder is missing) */
    int exists;
    uint64_t dev, ino; /* the file, or its folder when absent */
    const char *name;  /* absent: the last component of path */
    char *own;
    char *real;        /* an existing output, links followed: written there;
                          a folder read (calibration inputs): its own path */
    int folder;        /* a folder read: every file under it is read */
    int output, model_in, model_out;
};

struct list {
    struct ent *v;
    size_t n;
};

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].own);
        free(l->v[i].real);
    }
    free(l->v);
}

static const char *last_part(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The folder part of path: "." for a bare name, "/" for "/name". */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* path's folder plus name, as a reader resolving `location` finds it. */
static char *beside(const char *path, const char *name)
{
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path + 1) : 0;
    char *s = malloc(dl + strlen(name) + 1);
    if (s) {
        memcpy(s, path, dl);
        strcpy(s + dl, name);
    }
    return s;
}

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m))
        return "folder";
    if (S_ISCHR(m))
        return "character device";
    if (S_ISBLK(m))
        return "block device";
    if (S_ISFIFO(m))
        return "FIFO";
    if (S_ISSOCK(m))
        return "socket";
    return "special file";
}

/* An input: identified where possible; one that cannot be (missing, in a
 * missing folder) clashes with nothing, and its reader reports it. */
static void identify(struct ent *e)
{
    struct stat st;
    if (!e->path)
        return;
    if (stat(e->path, &st) == 0) {
        e->known = e->exists = 1;
        e->dev = (uint64_t)st.st_dev;
        e->ino = (uint64_t)st.st_ino;
        if (S_ISDIR(st.st_mode) && (e->real = realpath(e->path, NULL)))
            e->folder = 1;
        return;
    }
    char *dir = folder_of(e->path);
    if (dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        e->known = 1;
        e->dev = (uint64_t)st.st_dev;
        e->ino = (uint64_t)st.st_ino;
        e->name = last_part(e->path);
    }
    free(dir);
}

static td_status folder_writable(const struct ent *e, const char *dir,
                                 td_err_t *err)
{
    if (access(dir, W_OK | X_OK) != 0)
        return td_err_set(err, TD_EIO, "'%s' (%s): cannot write in its "
                          "folder '%s': %s", e->path, e->role, dir,
                          strerror(errno));
    return TD_OK;
}

/* An output: only an absent name in a writable folder, or a regular file
 * the user may write, is accepted. */
static td_status resolve_output(struct ent *e, td_err_t *err)
{
    const char *p = e->path;
    if (!p || !*p)
        return td_err_set(err, TD_EIO, "%s: the path is empty", e->role);
    if (p[strlen(p) - 1] == '/')
        return td_err_set(err, TD_EIO, "'%s' (%s) names a folder, not a file",
                          p, e->role);
    struct stat st;
    td_status s = TD_OK;
    char *dir = NULL;
    if (lstat(p, &st) == 0) {
        if (S_ISLNK(st.st_mode) && stat(p, &st) != 0)
            return td_err_set(err, TD_EIO, "'%s' (%s) is a symbolic link "
                              "that leads nowhere (%s); refused", p, e->role,
                              strerror(errno));
        if (!S_ISREG(st.st_mode))
            return td_err_set(err, TD_EIO, "'%s' (%s) is a %s, not a regular "
                              "file; refused", p, e->role,
                              kind_of(st.st_mode));
        /* root may write anything: the missing write bits are the owner's
         * word that the file is not to be replaced */
        if (!(st.st_mode & 0222) || access(p, W_OK) != 0)
            return td_err_set(err, TD_EIO, "'%s' (%s) is read-only; refused",
                              p, e->role);
        if (!(e->real = realpath(p, NULL)))
            return td_err_set(err, TD_EIO, "'%s' (%s): cannot resolve: %s", p,
                              e->role, strerror(errno));
        if (!(dir = folder_of(e->real)))
            return td_err_set(err, TD_ENOMEM, "out of memory");
        s = folder_writable(e, dir, err);
        e->exists = 1;
    } else if (errno == ENOENT) {
        if (!(dir = folder_of(p)))
            return td_err_set(err, TD_ENOMEM, "out of memory");
        struct stat ds;
        long max;
        if (stat(dir, &ds) != 0)
            s = td_err_set(err, TD_EIO, "'%s' (%s): its folder '%s' %s", p,
                           e->role, dir, errno == ENOENT
                               ? "does not exist" : strerror(errno));
        else if (!S_ISDIR(ds.st_mode))
            s = td_err_set(err, TD_EIO, "'%s' (%s): '%s' is not a folder", p,
                           e->role, dir);
        else if ((s = folder_writable(e, dir, err)) == TD_OK &&
                 (max = pathconf(dir, _PC_NAME_MAX)) > 0 &&
                 strlen(last_part(p)) > (size_t)max)
            s = td_err_set(err, TD_EIO, "'%s' (%s): the name is longer than "
                           "%ld bytes", p, e->role, max);
        st = ds;
        e->name = last_part(p);
    } else {
        return td_err_set(err, TD_EIO, "'%s' (%s): %s", p, e->role,
                          strerror(errno));
    }
    free(dir);
    e->known = 1;
    e->dev = (uint64_t)st.st_dev;
    e->ino = (uint64_t)st.st_ino;
    return s;
}

static int same(const struct ent *a, const struct ent *b)
{
    if (!a->known || !b->known || a->exists != b->exists || a->dev != b->dev ||
        a->ino != b->ino)
        return 0;
    return a->exists || strcmp(a->name, b->name) == 0;
}

/* An existing output somewhere under folder read o: one of the files read
 * (a folder of calibration inputs is read whole, at any depth). */
static int under(const struct ent *o, const struct ent *e)
{
    size_t n = o->folder && e->real ? strlen(o->real) : 0;
    return n && strncmp(e->real, o->real, n) == 0 &&
           (e->real[n] == '/' || o->real[n - 1] == '/');
}

/* Output e (the last one added) against everything before it. */
static td_status clash(const struct list *l, const struct ent *e,
                       int in_place, td_err_t *err)
{
    for (size_t i = 0; i + 1 < l->n; i++) {
        const struct ent *o = &l->v[i];
        if (under(o, e))
            return td_err_set(err, TD_EIO, "'%s' (%s) is a file in '%s' (%s), "
                              "a folder read; refused", e->path, e->role,
                              o->path, o->role);
        if (!same(o, e))
            continue;
        if (o->model_in && e->model_out) {
            if (in_place)
                continue;
            return td_err_set(err, TD_EIO, "'%s' (the output model) is the "
                              "model read, '%s'; refused (outputs.in_place "
                              "replaces it)", e->path, o->path);
        }
        if (o->output)
            return td_err_set(err, TD_EIO, "'%s' (%s) and '%s' (%s) are the "
                              "same file; refused", e->path, e->role, o->path,
                              o->role);
        return td_err_set(err, TD_EIO, "'%s' (%s) is '%s' (%s), a file read; "
                          "refused", e->path, e->role, o->path, o->role);
    }
    return TD_OK;
}

static struct ent *add(struct list *l, const char *path, const char *role)
{
    struct ent *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    e->path = path;
    e->role = role;
    return e;
}

static td_status add_output(struct list *l, const char *path,
                            const char *role, int model_out, int in_place,
                            td_err_t *err)
{
    struct ent *e = add(l, path, role);
    e->output = 1;
    e->model_out = model_out;
    td_status s = resolve_output(e, err);
    return s ? s : clash(l, e, in_place, err);
}

/* The files of the model read: its own (open since loading) and each
 * external-data file a tensor came from. */
static td_status add_model_inputs(struct list *l, td_model *m, td_err_t *err)
{
    struct ent *e = add(l, td_model_path(m), "the model read");
    e->model_in = 1;
    e->known = e->exists = td_model_file_id(m, &e->dev, &e->ino) == 0;
    /* After a save in place the name holds another file than the one
     * read; it is the model read as far as the caller knows. */
    struct ent now = {.path = e->path};
    identify(&now);
    if (now.exists && !same(e, &now)) {
        e = add(l, now.path, "the model read");
        *e = now;
        e->role = "the model read";
        e->model_in = 1;
    }
    const td_extfiles *x = td_model_extfiles(m);
    for (size_t i = 0; i < td_extfiles_count(x); i++) {
        e = add(l, NULL, "external data of the model read");
        const char *loc = td_extfiles_file(x, i, &e->dev, &e->ino);
        e->known = e->exists = 1;
        const char *dir = td_extfiles_dir(x);
        e->own = malloc(strlen(dir) + strlen(loc) + 2);
        if (!e->own)
            return td_err_set(err, TD_ENOMEM, "out of memory");
        strcpy(e->own, dir);
        strcat(e->own, "/");
        strcat(e->own, loc);
        e->path = e->own;
    }
    return TD_OK;
}

static td_status sidecar_name(const char *ext, td_err_t *err)
{
    if (strchr(ext, '/') || td_extdata_check_location(ext, err) ||
        !strcmp(ext, "."))
        return td_err_set(err, TD_EUSAGE,
                          "options.external_data '%s' must be a plain file "
                          "name "
                          "(it is written beside the output)", ext);
    return TD_OK;
}

/* Fills l with every file read, then every output in write order (external
 * data, model, other files), each checked as it is added. */
static td_status build(const td_out_plan *p, struct list *l, td_err_t *err)
{
    const td_save_opts *so = p->save;
    const char *ext = so && p->model_path ? so->external_data : NULL;
    int in_place = p->in_place;
    if (p->model_path && !p->model)
        return td_err_set(err, TD_EUSAGE, "a model path without a model");
    size_t cap = p->n_reads + p->n_files + 2;
    if (p->model)
        cap += 2 + td_extfiles_count(td_model_extfiles(p->model));
    l->n = 0;
    if (!(l->v = calloc(cap, sizeof *l->v)))
        return td_err_set(err, TD_ENOMEM, "out of memory");
    td_status s;
    if (p->model && (s = add_model_inputs(l, p->model, err)))
        return s;
    for (size_t i = 0; i < p->n_reads; i++)
        identify(add(l, p->reads[i].path,
                     p->reads[i].role ? p->reads[i].role : "input"));
    if (ext) {
        if ((s = sidecar_name(ext, err)))
            return s;
        char *side = beside(p->model_path, ext);
        if (!side)
            return td_err_set(err, TD_ENOMEM, "out of memory");
        s = add_output(l, side, "the external data written", 0, in_place,
                       err);
        l->v[l->n - 1].own = side;
        if (s)
            return s;
    }
    if (p->model_path) {
        if ((s = add_output(l, p->model_path, "the output model", 1,
                            in_place, err)))
            return s;
        int is_input = 0;
        for (size_t i = 0; i + 1 < l->n; i++)
            is_input |= l->v[i].model_in && same(&l->v[i], &l->v[l->n - 1]);
        if (in_place && !is_input)
            return td_err_set(err, TD_EUSAGE, "in place: '%s' is not the "
                              "model read, '%s'", p->model_path,
                              td_model_path(p->model));
    } else if (in_place) {
        return td_err_set(err, TD_EUSAGE, "in place, but no model written");
    }
    for (size_t i = 0; i < p->n_files; i++)
        if ((s = add_output(l, p->files[i].path,
                            p->files[i].role ? p->files[i].role : "output",
                            0, in_place, err)))
            return s;
    return TD_OK;
}

td_status td_outputs_check(const td_out_plan *p, td_err_t *err)
{
    struct list l = {0};
    td_status s = build(p, &l, err);
    list_free(&l);
    return s;
}

td_status td_outputs_write(const td_out_plan *p, td_err_t *err)
{
    struct list l = {0};
    td_atomic *f = NULL;
    size_t first = 0, n_open = 0, placed = 0;
    td_status s = build(p, &l, err);
    if (s)
        goto done;
    while (first < l.n && !l.v[first].output)
        first++;
    size_t n_out = l.n - first;
    if (!(f = calloc(n_out ? n_out : 1, sizeof *f))) {
        s = td_err_set(err, TD_ENOMEM, "out of memory");
        goto done;
    }
    for (; n_open < n_out; n_open++) {
        const struct ent *e = &l.v[first + n_open];
        if ((s = td_atomic_open(&f[n_open], e->real ? e->real : e->path, err)))
            goto done;
    }
    /* Outputs are in the order build added them: [external data], model,
     * then the other files. */
    size_t k = 0;
    if (p->model_path) {
        td_atomic *side = p->save && p->save->external_data ? &f[k++] : NULL;
        if ((s = td_model_write(p->model, &f[k++], side, p->save,
                                p->model_path, err)))
            goto done;
    }
    for (size_t i = 0; i < p->n_files; i++)
        td_atomic_write(&f[k++], p->files[i].data, p->files[i].len);
    for (size_t i = 0; i < n_out; i++)
        if ((s = td_atomic_finish(&f[i], err)))
            goto done;
    /* Every file is complete: now the renames, external data before the
     * model that points at it. A rename failing here (it only moves a name
     * within a folder) takes back the files it had created. */
    for (; placed < n_out; placed++)
        if ((s = td_atomic_place(&f[placed], err)))
            break;
    for (size_t i = 0; s && i < placed; i++)
        if (!l.v[first + i].exists)
            unlink(l.v[first + i].real ? l.v[first + i].real
                                       : l.v[first + i].path);
done:
    for (size_t i = 0; i < n_open; i++)
        if (f[i].target)
            td_atomic_abort(&f[i]);
    free(f);
    list_free(&l);
    return s;
}
