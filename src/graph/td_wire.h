/* A pass over the protobuf wire bytes of a ModelProto, before protobuf-c
 * sees them. protobuf-c's unpack recurses without a limit and allocates
 * whatever the bytes ask for, so this scan, which is iterative, refuses:
 * nesting deeper than max_depth, malformed varints/lengths, group wire types,
 * NUL bytes inside string fields (protobuf-c's char* would silently cut them),
 * and inputs whose unpacked form would exceed mem_limit.
 *
 * It can also "hollow" the file: every TensorProto.raw_data payload of at
 * least hollow_min bytes is replaced by a marker (an unknown field carrying
 * offset and length into the original bytes), so that unpack does not copy
 * tensor payloads and they stay in the read-only file mapping. */
#ifndef TD_WIRE_H
#define TD_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "util/td_err.h"

/* The highest legal field number; never used by ONNX. */
#define TD_WIRE_MARKER_FIELD 536870911u

typedef struct td_wire_opts {
    int max_depth;      /* message nesting limit (protobuf's default is 100) */
    size_t hollow_min;  /* 0: do not hollow */
    size_t mem_limit;   /* refuse when the estimate exceeds this; 0: no bound */
} td_wire_opts;

typedef struct td_wire_result {
    uint8_t *compact;     /* malloc'd rewritten bytes, NULL when not hollowed */
    size_t compact_len;
    size_t n_hollowed;
    size_t est_bytes;     /* estimated bytes protobuf-c will allocate */
    int max_depth_seen;
} td_wire_result;

/* Scans buf as a message of type desc. On error, err names the byte offset
 * and the field path. result->compact must be freed with free(). */
td_status td_wire_prepare(const uint8_t *buf, size_t len,
                          const ProtobufCMessageDescriptor *desc,
                          const td_wire_opts *opts, td_wire_result *result,
                          td_err_t *err);

/* Reads a hollowing marker (16 bytes: offset, length, little-endian), as
 * protobuf-c stores it in unknown_fields: with its 1-byte length prefix. */
int td_wire_marker_decode(const uint8_t *data, size_t len, uint64_t *offset,
                          uint64_t *length);

#endif
