/* What a compressed model and its report say about how they were made
 * (api_provenance.c). */
#ifndef API_PROVENANCE_H
#define API_PROVENANCE_H

#include "graph/td_model.h"
#include "onnxtd.h"

/* The options that decide the result, in words ("method=auto ratio=0.5
 * ..."), malloc'd; NULL when out of memory. */
char *td_api_options_text(const onnxtd_compress_options *o);

/* Records in m's metadata_props that onnxtd made it: "onnxtd.version" and
 * "onnxtd.options" (options). producer_name stays the original
 * exporter's. */
td_status td_api_stamp(td_model *m, const char *options, td_err_t *err);

#endif
