/* A loaded model: the file mapping, protobuf-c's unpacked message (never
 * modified), the arena with everything built since, and the graph IR. */
#ifndef TD_MODEL_H
#define TD_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"
#include "td_graph.h"
#include "util/td_err.h"

typedef struct td_model td_model;

typedef struct td_load_opts {
    int max_depth;     /* message nesting limit; 0 -> TD_MAX_NESTING */
    size_t mem_limit;  /* refuse models whose unpacked form needs more; 0 ->
                          the machine's physical memory */
    int no_hollow;     /* copy tensor payloads instead of mapping them */
} td_load_opts;

typedef struct td_save_opts {
    const char *external_data;  /* file name beside the output, or NULL */
    size_t size_threshold;      /* tensors at least this big go external */
} td_save_opts;

td_status td_model_load(const char *path, const td_load_opts *opts,
                        td_model **out, td_err_t *err);
/* The same from len bytes in memory (copied); messages call it "memory".
 * Tensors in external data are refused (no folder to read them from). */
td_status td_model_load_memory(const void *data, size_t len,
                               const td_load_opts *opts, td_model **out,
                               td_err_t *err);
void td_model_free(td_model *m);

const char *td_model_path(const td_model *m);
/* How many tensor payloads were left in the file mapping instead of being
 * copied (those of at least 4 KiB, unless hollowing had to be given up). */
size_t td_model_mapped_tensors(const td_model *m);
/* The input file's mapping and its open descriptor (borrowed). */
void td_model_mapping(const td_model *m, const uint8_t **map, size_t *len,
                      int *fd);
/* Where the model was read from, so that no output replaces it: the
 * identity of its file (kept open since loading) and the external-data
 * files its tensors referenced (borrowed). */
/* 0, or -1 when the file cannot be identified. */
int td_model_file_id(const td_model *m, uint64_t *dev, uint64_t *ino);
const struct td_extfiles *td_model_extfiles(const td_model *m);
td_graph *td_model_graph(td_model *m);
td_arena *td_model_arena(td_model *m);
/* The model as it stands now (the IR's graph in place); arena-built. */
const Onnx__ModelProto *td_model_current(td_model *m);

/* Sets metadata_props entry key to value in the model saved from now on
 * (an entry of that key is replaced); the other fields stay as they are. */
td_status td_model_set_metadata(td_model *m, const char *key,
                                const char *value, td_err_t *err);
/* The model as loaded (payloads attached; never modified). */
const Onnx__ModelProto *td_model_root(const td_model *m);
/* Replaces the model-local functions: an arena-owned array of as many
 * functions as the model had (td_model_current and saving use it). */
void td_model_set_functions(td_model *m, Onnx__FunctionProto **functions);

/* The version of an operator set imported by the model (domain "" and
 * "ai.onnx" are the same), or 0 when not imported. */
int64_t td_model_opset(const td_model *m, const char *domain);

/* A second IR over the model as it stands now: its edits go to arena a and
 * leave m's own graph as it is. The two share every message and payload
 * (the IR never changes a message in place), so m must outlive it. NULL
 * when out of memory. For a variant of the model (the calibration outputs)
 * or a copy of it as it was (the original, kept while m is compressed). */
td_graph *td_model_fork_graph(td_model *m, td_arena *a);

/* The model, with graph g (a fork of m's; NULL: m's own) in place of its
 * graph, serialized into *buf (malloc'd, *len bytes) for a runtime that
 * takes a model in memory. Tensors are inlined; over protobuf's 2 GiB is
 * refused. */
td_status td_model_pack(td_model *m, td_graph *g, uint8_t **buf, size_t *len,
                        td_err_t *err);

/* Writes atomically: temp file in the target folder, fsync, rename; the
 * path is checked first as td_outputs_check does (the model read, or a
 * file it read, is refused; td_outputs_write can replace the former). */
td_status td_model_save(td_model *m, const char *path,
                        const td_save_opts *opts, td_err_t *err);

/* The bytes of a save into temp files opened by the caller: the model into
 * out and, with opts->external_data (side not NULL), tensors of at least
 * opts->size_threshold bytes into side. Neither is finished. path is only
 * named in messages. */
struct td_atomic;
td_status td_model_write(td_model *m, struct td_atomic *out,
                         struct td_atomic *side, const td_save_opts *opts,
                         const char *path, td_err_t *err);

#endif
