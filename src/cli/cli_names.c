/* The library's messages name its options as a program sets them
 * ("options.allow_slower", "target_params 0.7"); on the command line the
 * same things are flags. This rewrites the first into the second before a
 * message is printed, so that a refusal tells the user what to type. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct name_map {
    const char *lib, *flag;
} name_map;

/* Tried in order at each position: a longer name before any prefix of it
 * ("options.refit_waves" before "options.refit"). A name matches only
 * whole: the character after it is not part of an identifier. */
static const name_map names[] = {
    {"options.budget target_params", "--target-params"},
    {"options.budget target_flops", "--target-flops"},
    {"options.budget.rank", "--rank"},
    {"options.include/exclude", "--include/--exclude"},
    {"options.sensitivity MEASURED", "--sensitivity measured"},
    {"options.measure_runs", "--runs"},
    {"options.allow_slower", "--allow-slower"},
    {"options.max_layer_error", "--max-layer-error"},
    {"options.max_error", "--max-error"},
    {"options.min_agreement", "--min-agreement"},
    {"options.min_iou", "--min-iou"},
    {"options.iou_threshold", "--iou-threshold"},
    {"options.min_score", "--min-score"},
    {"options.judge", "--judge"},
    {"options.bound_outputs", "--bound-output"},
    {"options.calib", "--calib"},
    {"options.holdout", "--holdout"},
    {"options.state", "--state"},
    {"in options.dims", "with --dim NAME=N or --input-shape INPUT:D1,D2,..."},
    {"options.dims", "--dim"},
    {"options.include", "--include"},
    {"options.exclude", "--exclude"},
    {"options.method", "--method"},
    {"options.sensitivity", "--sensitivity"},
    {"options.sens_cache", "--sens-cache"},
    {"options.sens_groups", "--sens-groups"},
    {"options.refit_waves", "--refit-waves"},
    {"options.refit", "--refit"},
    {"options.softmax_metric", "--softmax-metric"},
    {"options.act_lambda ONNXTD_ACT_LAMBDA_CV", "--act-lambda cv"},
    {"options.act_lambda ONNXTD_ACT_LAMBDA_AUTO", "--act-lambda auto"},
    {"ONNXTD_ACT_LAMBDA_CV", "cv"},
    {"ONNXTD_ACT_LAMBDA_AUTO", "auto"},
    {"options.act_lambda", "--act-lambda"},
    {"options.act_stats", "--act-stats"},
    {"options.threads", "--threads"},
    {"options.rank_multiple", "--rank-multiple"},
    {"options.min_rank", "--min-rank"},
    {"options.max_sweeps", "--sweeps"},
    {"options.fit_tol", "--fit-tol"},
    {"options.external_data", "--external-data"},
    {"options.ort_lib", "--ort-lib"},
    /* named without the struct: "target_params 0.729 asked", "within
     * max_error 0.05" */
    {"target_params", "--target-params"},
    {"target_flops", "--target-flops"},
    {"also_flops", "--target-flops"},
    {"max_layer_error", "--max-layer-error"},
    {"max_error", "--max-error"},
    {"min_agreement", "--min-agreement"},
    {"min_iou", "--min-iou"},
    {"iou_threshold", "--iou-threshold"},
    {"min_score", "--min-score"},
    {"min_cosine", "--min-cosine"},   /* eval's */
    {"rtol", "--rtol"},
};

static int ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Does the text after a name end it? Not when it goes on as an
 * identifier, a path ("max_error/model.onnx") or a file name's extension
 * ("target_params.onnx"). */
static int name_ends(const char *after)
{
    return !ident_char(after[0]) && after[0] != '/' &&
           !(after[0] == '.' && ident_char(after[1]));
}

/* The entry whose name starts msg + i as a whole word, or NULL. */
static const name_map *match_at(const char *msg, size_t i)
{
    /* not inside a name: "x.target_params", "a-b", a quoted 'name' or a
     * path's folder "/runs/max_error" */
    if (i > 0 && (ident_char(msg[i - 1]) || msg[i - 1] == '.' ||
                  msg[i - 1] == '-' || msg[i - 1] == '\'' ||
                  msg[i - 1] == '/'))
        return NULL;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t n = strlen(names[k].lib);
        if (!strncmp(msg + i, names[k].lib, n) && name_ends(msg + i + n))
            return &names[k];
    }
    return NULL;
}

/* Writes msg rewritten into out (when not NULL); returns its length. */
static size_t rewrite(const char *msg, char *out)
{
    size_t len = 0;
    for (size_t i = 0; msg[i];) {
        const name_map *m = match_at(msg, i);
        const char *from = m ? m->flag : msg + i;
        size_t n = m ? strlen(m->flag) : 1;
        if (out)
            memcpy(out + len, from, n);
        len += n;
        i += m ? strlen(m->lib) : 1;
    }
    return len;
}

char *cli_names(const char *msg)
{
    size_t len = rewrite(msg, NULL);
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    rewrite(msg, out);
    out[len] = '\0';
    return out;
}

void cli_error_lib(const char *msg)
{
    char *t = cli_names(msg);
    cli_error("%s", t ? t : msg);
    free(t);
}
