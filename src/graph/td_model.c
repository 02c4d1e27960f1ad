#include "td_model.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "td_extdata.h"
#include "td_tensor.h"
#include "td_walk.h"
#include "td_wire.h"

struct td_model {
    char *path;
    td_arena *arena;
    const uint8_t *map;
    size_t map_len;
    int fd;  /* the input, kept open so saving can copy payloads file to file */
    Onnx__ModelProto *unpacked;
    const Onnx__ModelProto *root;  /* payloads attached */
    td_extfiles *ext;
    td_graph *graph;
    size_t n_mapped;  /* tensors whose payload stays in the file mapping */
    int from_memory;  /* map is a malloc'd copy of the caller's bytes, and
                         there is no folder to read external data from */
    /* model-local functions rewritten since loading (NULL: the file's) */
    Onnx__FunctionProto **functions;
};

enum { HOLLOW_MIN = 4096 };
#define RETRY_WITHOUT_HOLLOW ((td_status)101)

struct attach_ctx {
    td_model *m;
    td_arena *a;
    int hollow;  /* markers are ours only when the scan placed them */
};

/* Gives a tensor its bytes: a hollowed payload back from the mapping, or an
 * external file's bytes inlined. Then checks length against dims. */
static td_status attach(void *vctx, const Onnx__TensorProto *t,
                        Onnx__TensorProto **rep, td_err_t *err)
{
    struct attach_ctx *c = vctx;
    const ProtobufCMessageUnknownField *uf = t->base.unknown_fields;
    size_t n_marker = 0;
    uint64_t off = 0, len = 0;
    for (unsigned i = 0; c->hollow && i < t->base.n_unknown_fields; i++)
        if (uf[i].tag == TD_WIRE_MARKER_FIELD) {
            if (td_wire_marker_decode(uf[i].data, uf[i].len, &off, &len) ||
                len > c->m->map_len || off > c->m->map_len - len)
                return RETRY_WITHOUT_HOLLOW;
            n_marker++;
        }
    int external = t->has_data_location &&
        t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (n_marker) {
        /* Two markers or a marker beside a raw_data field can come from
         * merged duplicate messages; their order is lost, so go slow. */
        if (n_marker > 1 || t->has_raw_data)
            return RETRY_WITHOUT_HOLLOW;
        Onnx__TensorProto *cp = td_arena_memdup(c->a, t, sizeof *t);
        ProtobufCMessageUnknownField *keep =
            td_arena_calloc(c->a, t->base.n_unknown_fields, sizeof *keep);
        if (!cp || (t->base.n_unknown_fields && !keep))
            return td_err_set(err, TD_ENOMEM, "out of memory");
        unsigned k = 0;
        for (unsigned i = 0; i < t->base.n_unknown_fields; i++)
            if (uf[i].tag != TD_WIRE_MARKER_FIELD)
                keep[k++] = uf[i];
        cp->base.n_unknown_fields = k;
        cp->base.unknown_fields = k ? keep : NULL;
        cp->has_raw_data = 1;
        cp->raw_data.len = (size_t)len;
        cp->raw_data.data = (uint8_t *)(c->m->map + off);
        c->m->n_mapped++;
        *rep = cp;
        t = cp;
    } else if (external && c->m->from_memory) {
        return td_err_set(err, TD_EINPUT,
                          "tensor '%s' refers to external data, which a "
                          "model loaded from memory cannot read",
                          t->name ? t->name : "");
    } else if (external) {
        const uint8_t *data;
        size_t dlen;
        td_status s = td_extdata_read(c->m->ext, t, &data, &dlen, err);
        if (s)
            return s;
        Onnx__TensorProto *cp = td_arena_memdup(c->a, t, sizeof *t);
        if (!cp)
            return td_err_set(err, TD_ENOMEM, "out of memory");
        cp->has_raw_data = 1;
        cp->raw_data.len = dlen;
        cp->raw_data.data = (uint8_t *)data;
        cp->has_data_location = 0;
        cp->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT;
        cp->n_external_data = 0;
        cp->external_data = NULL;
        *rep = cp;
        t = cp;
    }
    return td_tensor_validate(t, err);
}

static size_t physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0)
        return 0;
    return (size_t)pages * (size_t)size;
}

/* protobuf-c's unpack answers NULL both for bytes that do not parse and for
 * an allocation that failed; an allocator of ours tells the two apart (and
 * its calls are counted by the fault injection of util/td_mem.h). */
static void *pb_alloc(void *ctx, size_t n)
{
    void *p = malloc(n);
    if (!p)
        *(int *)ctx = 1;
    return p;
}

static void pb_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static td_status unpack(td_model *m, const td_load_opts *opts, int hollow,
                        td_err_t *err)
{
    td_wire_opts wo = {
        .max_depth = opts && opts->max_depth ? opts->max_depth : TD_MAX_NESTING,
        .hollow_min = hollow ? HOLLOW_MIN : 0,
        .mem_limit = opts && opts->mem_limit ? opts->mem_limit
                                             : physical_memory(),
    };
    td_wire_result wr;
    td_status s = td_wire_prepare(m->map, m->map_len,
                                  &onnx__model_proto__descriptor, &wo, &wr, err);
    if (s)  /* over the memory bound is not malformed: say which it is */
        return td_err_prefix(err, s == TD_ENOMEM
                                      ? "cannot load the model (%zu bytes): "
                                      : "not a valid ONNX model (%zu bytes): ",
                             m->map_len);
    const uint8_t *buf = wr.compact ? wr.compact : m->map;
    size_t len = wr.compact ? wr.compact_len : m->map_len;
    int oom = 0;
    ProtobufCAllocator pa = {pb_alloc, pb_free, &oom};
    m->unpacked = onnx__model_proto__unpack(&pa, len, buf);
    free(wr.compact);
    if (!m->unpacked && oom)
        return td_err_set(err, TD_ENOMEM,
                          "cannot load the model (%zu bytes): out of memory",
                          m->map_len);
    if (!m->unpacked)
        return td_err_set(err, TD_EINPUT,
                          "not a valid ONNX model (%zu bytes): protobuf "
                          "parsing failed", m->map_len);
    if (!m->unpacked->graph)
        return td_err_set(err, TD_EINPUT,
                          "not an ONNX model (%zu bytes): it has no graph",
                          m->map_len);
    struct attach_ctx c = {m, m->arena, wr.n_hollowed > 0};
    const ProtobufCMessage *root;
    s = td_walk_tensors(m->arena, &m->unpacked->base, attach, &c, &root, err);
    if (s)
        return s;
    m->root = (const Onnx__ModelProto *)root;
    return TD_OK;
}

static td_status map_input(td_model *m, const char *path, td_err_t *err)
{
    /* O_NONBLOCK so that a FIFO given as the model does not hang the open;
     * it is refused as not a regular file just after. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return td_err_set(err, TD_EIO, "cannot open: %s", strerror(errno));
    struct stat st;
    td_status s = TD_OK;
    if (fstat(fd, &st) != 0) {
        s = td_err_set(err, TD_EIO, "cannot stat: %s", strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        s = td_err_set(err, TD_EINPUT, "not a regular file");
    } else if (st.st_size == 0) {
        s = td_err_set(err, TD_EINPUT,
                       "not an ONNX model: the file is empty (0 bytes)");
    } else {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            s = td_err_set(err, TD_EIO, "mmap: %s", strerror(errno));
        } else {
            m->map = p;
            m->map_len = (size_t)st.st_size;
            m->fd = fd;
            return TD_OK;
        }
    }
    close(fd);
    return s;
}

static void release_unpacked(td_model *m)
{
    ProtobufCAllocator pa = {pb_alloc, pb_free, NULL};
    if (m->unpacked)
        onnx__model_proto__free_unpacked(m->unpacked, &pa);
    m->unpacked = NULL;
}

/* Unpacks m->map (hollowing large payloads, or copying them all when the
 * mapping's markers cannot be trusted) and builds the IR. */
static td_status parse(td_model *m, const td_load_opts *opts, td_err_t *err)
{
    td_status s = unpack(m, opts, !(opts && opts->no_hollow), err);
    if (s == RETRY_WITHOUT_HOLLOW) {
        release_unpacked(m);
        td_arena_free(m->arena);
        m->n_mapped = 0;
        if (!(m->arena = td_arena_new()))
            return td_err_set(err, TD_ENOMEM, "out of memory");
        s = unpack(m, opts, 0, err);
    }
    if (s)
        return s;
    m->graph = td_graph_new(m->arena, m->root->graph,
                            m->root->has_ir_version ? m->root->ir_version : 0);
    if (!m->graph)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    return TD_OK;
}

td_status td_model_load(const char *path, const td_load_opts *opts,
                        td_model **out, td_err_t *err)
{
    *out = NULL;
    td_model *m = calloc(1, sizeof *m);
    if (!m)
        return td_err_set(err, TD_ENOMEM, "%s: out of memory", path);
    m->fd = -1;
    td_status s = TD_ENOMEM;
    char *dir_copy = strdup(path);
    m->path = strdup(path);
    m->arena = td_arena_new();
    if (!dir_copy || !m->path || !m->arena) {
        td_err_set(err, TD_ENOMEM, "out of memory");
        goto fail;
    }
    s = td_extfiles_new(dirname(dir_copy), &m->ext, err);
    if (s)
        goto fail;
    s = map_input(m, path, err);
    if (s)
        goto fail;
    if ((s = parse(m, opts, err)))
        goto fail;
    free(dir_copy);
    *out = m;
    return TD_OK;
fail:
    free(dir_copy);
    td_err_prefix(err, "%s: ", path);
    td_model_free(m);
    return s;
}

td_status td_model_load_memory(const void *data, size_t len,
                               const td_load_opts *opts, td_model **out,
                               td_err_t *err)
{
    static const char name[] = "memory";
    *out = NULL;
    td_model *m = calloc(1, sizeof *m);
    if (!m)
        return td_err_set(err, TD_ENOMEM, "%s: out of memory", name);
    m->fd = -1;
    m->from_memory = 1;
    td_status s = TD_ENOMEM;
    uint8_t *copy = len ? malloc(len) : NULL;
    m->path = strdup(name);
    m->arena = td_arena_new();
    if ((len && !copy) || !m->path || !m->arena) {
        free(copy);
        td_err_set(err, TD_ENOMEM, "out of memory");
        goto fail;
    }
    if (len)
        memcpy(copy, data, len);
    m->map = copy;
    m->map_len = len;
    /* no folder: the list stays empty, external tensors are refused */
    if ((s = td_extfiles_new(".", &m->ext, err)))
        goto fail;
    if (len == 0) {
        s = td_err_set(err, TD_EINPUT, "not an ONNX model: 0 bytes");
        goto fail;
    }
    if ((s = parse(m, opts, err)))
        goto fail;
    *out = m;
    return TD_OK;
fail:
    td_err_prefix(err, "%s: ", name);
    td_model_free(m);
    return s;
}

void td_model_free(td_model *m)
{
    if (!m)
        return;
    td_graph_free(m->graph);
    release_unpacked(m);
    td_arena_free(m->arena);
    td_extfiles_free(m->ext);
    if (m->map && m->from_memory)
        free((void *)m->map);
    else if (m->map)
        munmap((void *)m->map, m->map_len);
    if (m->fd >= 0)
        close(m->fd);
    free(m->path);
    free(m);
}

const char *td_model_path(const td_model *m) { return m->path; }

int td_model_file_id(const td_model *m, uint64_t *dev, uint64_t *ino)
{
    struct stat st;
    if (m->fd < 0 || fstat(m->fd, &st) != 0)
        return -1;
    *dev = (uint64_t)st.st_dev;
    *ino = (uint64_t)st.st_ino;
    return 0;
}

const struct td_extfiles *td_model_extfiles(const td_model *m)
{
    return m->ext;
}
size_t td_model_mapped_tensors(const td_model *m) { return m->n_mapped; }

void td_model_mapping(const td_model *m, const uint8_t **map, size_t *len,
                      int *fd)
{
    *map = m->map;
    *len = m->map_len;
    *fd = m->fd;
}
td_graph *td_model_graph(td_model *m) { return m->graph; }
td_arena *td_model_arena(td_model *m) { return m->arena; }

const Onnx__ModelProto *td_model_current(td_model *m)
{
    Onnx__ModelProto *cp = td_arena_memdup(m->arena, m->root, sizeof *cp);
    if (!cp)
        return NULL;
    cp->graph = td_graph_build(m->graph);
    if (m->functions)
        cp->functions = m->functions;
    return cp->graph ? cp : NULL;
}

const Onnx__ModelProto *td_model_root(const td_model *m) { return m->root; }

void td_model_set_functions(td_model *m, Onnx__FunctionProto **functions)
{
    m->functions = functions;
}

td_graph *td_model_fork_graph(td_model *m, td_arena *a)
{
    const Onnx__ModelProto *now = td_model_current(m);
    return now ? td_graph_new(a, now->graph, m->root->has_ir_version
                                                 ? m->root->ir_version : 0)
               : NULL;
}

static int same_domain(const char *a, const char *b)
{
    if (!a || !strcmp(a, "ai.onnx"))
        a = "";
    if (!b || !strcmp(b, "ai.onnx"))
        b = "";
    return strcmp(a, b) == 0;
}

int64_t td_model_opset(const td_model *m, const char *domain)
{
    for (size_t i = 0; i < m->root->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->root->opset_import[i];
        if (same_domain(o->domain, domain))
            return o->version;
    }
    return 0;
}

td_status td_model_set_metadata(td_model *m, const char *key,
                                const char *value, td_err_t *err)
{
    /* the unpacked message is never modified: a copy of the root with a
     * new list, its strings and entries in the arena */
    const Onnx__ModelProto *old = m->root;
    Onnx__ModelProto *cp = td_arena_memdup(m->arena, old, sizeof *cp);
    size_t n = old->n_metadata_props;
    Onnx__StringStringEntryProto **list =
        cp ? td_arena_alloc(m->arena, (n + 1) * sizeof *list) : NULL;
    Onnx__StringStringEntryProto *e =
        list ? td_arena_alloc(m->arena, sizeof *e) : NULL;
    if (!e)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    onnx__string_string_entry_proto__init(e);
    e->key = td_arena_strdup(m->arena, key);
    e->value = td_arena_strdup(m->arena, value);
    if (!e->key || !e->value)
        return td_err_set(err, TD_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!old->metadata_props[i]->key ||
            strcmp(old->metadata_props[i]->key, key))
            list[k++] = old->metadata_props[i];
    list[k++] = e;
    cp->metadata_props = list;
    cp->n_metadata_props = k;
    m->root = cp;
    return TD_OK;
}
