/* The output-error bound's options, between the public options and the
 * search (calib/td_calib.h). */
#ifndef API_BOUND_H
#define API_BOUND_H

#include "onnxtd.h"
#include "passes/td_passes.h"

/* Where probability maps are binarised for their mask IoU: the one asked
 * for, else ONNXTD_DEFAULT_IOU_THRESHOLD. */
double api_iou_threshold(const onnxtd_compress_options *opts);

/* Whether opts set a bound at all: max_error not off (0 is the default
 * bound), or an agreement or IoU floor. With calib and no per-layer
 * budget, the bound is then kept (with no budget, searched for). */
int api_bound_set(const onnxtd_compress_options *opts);

/* Whether the bound applies and with what: *use = 1 with br's bound and
 * budget filled (and, with no budget asked, o turned into a parameter
 * budget for the search). Invalid combinations are TD_EUSAGE, messages
 * naming the option fields. Call after o's budget is set, with calib said. */
td_status api_bound_setup(const onnxtd_compress_options *opts, int calib,
                          td_compress_opts *o, td_bound_report *br,
                          td_judge *judge, int *use, td_err_t *err);

#endif
