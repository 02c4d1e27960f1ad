/* The command's rewriting of library option names into its flags
 * (src/cli/cli_names.c), against messages written out by hand: a name
 * longer than another it starts with wins, a name matches only whole, a
 * name inside a quoted tensor or a longer identifier stays, and the output
 * may grow past the input (ASan checks the buffer). */
#include <stdlib.h>
#include <string.h>

#include "tcheck.h"

/* the command's printing is not under test: cli_names.c calls it */
#include "cli/cli_names.c"

void cli_error(const char *fmt, ...)
{
    (void)fmt;
}

static void is(const char *msg, const char *want)
{
    char *got = cli_names(msg);
    CHECK_MSG(got && !strcmp(got, want), "'%s' gave '%s', not '%s'", msg,
              got ? got : "(null)", want);
    free(got);
}

int main(void)
{
    is("", "");
    is("no option here", "no option here");
    /* a refusal as the library words it */
    is("options.budget target_params 0.5 cannot be met: 3 layers are kept; "
       "options.allow_slower writes the chains anyway",
       "--target-params 0.5 cannot be met: 3 layers are kept; "
       "--allow-slower writes the chains anyway");
    is("the most compression found within the bound is target_params 0.729",
       "the most compression found within the bound is --target-params 0.729");
    is("target_params 0.2 cannot be met within max_error 0.0001 and "
       "min_agreement 0.98", "--target-params 0.2 cannot be met within "
       "--max-error 0.0001 and --min-agreement 0.98");
    is("min_iou 0.99 (at 0.5) (no max_error)",
       "--min-iou 0.99 (at 0.5) (no --max-error)");
    /* longest first: refit_waves is not refit + "_waves" */
    is("options.refit_waves must be >= 1", "--refit-waves must be >= 1");
    is("options.refit must be 0 or 1", "--refit must be 0 or 1");
    is("would pass options.max_layer_error 0.3",
       "would pass --max-layer-error 0.3");
    is("options.include/exclude leave no layer",
       "--include/--exclude leave no layer");
    is("options.sens_cache needs options.sensitivity MEASURED",
       "--sens-cache needs --sensitivity measured");
    is("a value in options.dims: 'H', 'W'",
       "a value with --dim NAME=N or --input-shape INPUT:D1,D2,...: 'H', 'W'");
    is("the spatial sizes (from the model or options.dims)",
       "the spatial sizes (from the model or --dim)");
    /* eval's failures */
    is("output 'y': rel. L2 0.2 > rtol 0.01\noutput 'y': cosine 0.9 < "
       "min_cosine 0.99\noutput 'y': top-1 agreement 0.5 < min_agreement 1\n",
       "output 'y': rel. L2 0.2 > --rtol 0.01\noutput 'y': cosine 0.9 < "
       "--min-cosine 0.99\noutput 'y': top-1 agreement 0.5 < --min-agreement "
       "1\n");
    /* at the very end, and before punctuation */
    is("needs options.calib", "needs --calib");
    is("options.calib: no input", "--calib: no input");
    /* only whole names, never inside another */
    is("options.calibrate", "options.calibrate");
    is("options.calib_x", "options.calib_x");
    is("layer 'target_params' (Conv)", "layer 'target_params' (Conv)");
    is("x.max_error, y_min_iou, z-target_flops, max_errors",
       "x.max_error, y_min_iou, z-target_flops, max_errors");
    is("myoptions.calib", "myoptions.calib");
    /* paths and file names stay as the user wrote them */
    is("/runs/max_error/model.onnx: options.calib: no input",
       "/runs/max_error/model.onnx: --calib: no input");
    is("target_params.onnx: bad", "target_params.onnx: bad");
    is("max_error/x.npy", "max_error/x.npy");
    is("needs options.calib.", "needs --calib.");
    /* growth: each "also_flops" (10) becomes "--target-flops" (14) */
    char many[10 * 11 + 1] = "", want[10 * 15 + 1] = "";
    for (int i = 0; i < 10; i++) {
        strcat(many, i ? " also_flops" : "also_flops");
        strcat(want, i ? " --target-flops" : "--target-flops");
    }
    is(many, want);
    return TCHECK_DONE();
}
