/* The files a command writes, checked before any work and written all or
 * nothing.
 *
 * Check: every output path is resolved; its folder must exist and take
 * files; it must be absent or a regular file the user may write (a
 * symbolic link is followed to one). Outputs are compared by identity
 * (device and inode of an existing file; folder identity and name of an
 * absent one) with every file read -- the model, the external-data files
 * its tensors came from, the other inputs named -- and with each other.
 * Any clash is refused naming both files, except the output model replacing
 * the model read when the plan asks for it (in_place).
 *
 * Write: the check again, then every output (external data, model, the
 * other files) into a temp file in its folder; only when all are complete
 * are they renamed over their targets. On failure the temps are removed and
 * no target changes. */
#ifndef TD_OUTPUTS_H
#define TD_OUTPUTS_H

#include <stddef.h>

#include "td_model.h"
#include "util/td_err.h"

typedef struct td_out_file {
    const char *path;
    const char *role;  /* how messages name the file, e.g. "--report" */
    const void *data;  /* the bytes to write (outputs only) */
    size_t len;
} td_out_file;

typedef struct td_out_plan {
    td_model *model;           /* the model read (borrowed), or NULL */
    const char *model_path;    /* where the model is saved; NULL: nowhere */
    const td_save_opts *save;  /* may be NULL */
    const td_out_file *files;  /* other files written (reports) */
    size_t n_files;
    const td_out_file *reads;  /* other files read (data unused) */
    size_t n_reads;
    int in_place;              /* model_path may be the model read */
} td_out_plan;

td_status td_outputs_check(const td_out_plan *p, td_err_t *err);
td_status td_outputs_write(const td_out_plan *p, td_err_t *err);

#endif
