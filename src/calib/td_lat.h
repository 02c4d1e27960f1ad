/* Per-layer latency measured in ONNX Runtime for the never-slower rule
 * (src/passes/td_latency.h asks through a td_latency_probe): a layer and
 * the chain that would replace it, each alone in a tiny model on the
 * layer's input shape (batch included), timed in interleaved runs with the
 * deployment's session options, medians compared. Results are cached in
 * memory for the run and, when a file is named, across runs: a text file
 * of one line per (runtime version, threads, layer geometry and input
 * shape, method, ranks), read before the pass and handed back for the
 * caller to write with its other outputs. */
#ifndef TD_LAT_H
#define TD_LAT_H

#include <stddef.h>
#include <stdint.h>

#include "passes/td_latency.h"
#include "runtime/td_rt.h"

typedef struct td_lat td_lat;

/* With timing, opens the runtime (ort_lib as td_rt_open takes it) for
 * sessions with options ro; reads cache_path when given and present (a
 * malformed file is refused, naming it and the line). Without timing or
 * without the runtime *out is still made, and td_lat_probe gives no probe:
 * the cost model decides, and the cache is carried over as it was. */
td_status td_lat_new(int timing, const char *ort_lib, const td_rt_options *ro,
                     const char *cache_path, td_lat **out, td_err_t *err);
void td_lat_free(td_lat *t);

/* The probe the pass calls, or NULL without the runtime. */
const td_latency_probe *td_lat_probe(td_lat *t);

/* Pairs timed, found in the cache, left untimed because the time for
 * timing was spent, and the seconds spent timing. */
void td_lat_counts(const td_lat *t, size_t *timed, size_t *cached,
                   size_t *over_time, double *seconds);

/* The cache as the file's text (every entry read and every new one);
 * *out: free(). */
td_status td_lat_cache_text(const td_lat *t, char **out, size_t *len,
                            td_err_t *err);

/* ---- for td_lat.c: the cache (td_lat_cache.c) and the models
 * (td_lat_model.c) ---- */

typedef struct td_lat_cache td_lat_cache;
td_lat_cache *td_lat_cache_new(void);
void td_lat_cache_free(td_lat_cache *c);
/* Parses the file's text into c; TD_EINPUT naming path and line. */
td_status td_lat_cache_parse(td_lat_cache *c, const char *path,
                             const char *text, size_t len, td_err_t *err);
/* 1 and the medians and quartiles when key is there (res->cached is not
 * touched). */
int td_lat_cache_get(const td_lat_cache *c, const char *key,
                     td_lat_result *res);
td_status td_lat_cache_put(td_lat_cache *c, const char *key,
                           const td_lat_result *res, td_err_t *err);
td_status td_lat_cache_format(const td_lat_cache *c, char **out, size_t *len,
                              td_err_t *err);

/* The layer alone on its input shape, with random weights (*buf: free()). */
td_status td_lat_layer_model(const td_layer *l, int64_t opset, uint8_t **buf,
                             size_t *len, td_err_t *err);
/* That model with the layer replaced by the chain f. */
td_status td_lat_chain_model(const td_layer *l, const td_factors *f,
                             int64_t opset, const uint8_t *layer_model,
                             size_t layer_len, uint8_t **buf, size_t *len,
                             td_err_t *err);

#endif
