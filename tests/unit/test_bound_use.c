/* The bound's judgement of one measurement (td_bound_judge) and the share
 * of it used (td_bound_use), which --act-lambda auto orders its candidates
 * by:
 * - judge: the largest rel. L2, the lowest agreement and mask IoU over the
 *   outputs judged (named ones only when the bound names any), each with
 *   the output that gave it; within exactly when every bound set holds;
 * - use: rel. L2 / max_error, (1 - value) / (1 - floor) for each floor
 *   measured, (original - score) / (original - min_score) for the judge's
 *   score, the largest of them; 1 at the bound's edge, so within <=>
 *   use <= 1 on every case here; a NaN output or an unscored model uses
 *   HUGE_VAL; a floor of 1 allows nothing below 1; with no bound set, 0. */
#include <math.h>
#include <string.h>

#include "calib/td_calib.h"
#include "tcheck.h"

#define CHECK_NEAR(a, b, tol)                                                  \
    CHECK_MSG(fabs((a) - (b)) <= (tol), "%.17g, wanted %.17g", (double)(a),    \
              (double)(b))

static td_measured_output out(const char *name, double rel, double agr,
                              double iou)
{
    td_measured_output o;
    memset(&o, 0, sizeof o);
    o.name = (char *)name;
    o.rel_l2 = rel;
    o.agreement = agr;
    o.iou_min = iou;
    o.iou_mean = iou;
    return o;
}

static td_bound_report bound(double max_error, double min_agr, double min_iou)
{
    td_bound_report br;
    memset(&br, 0, sizeof br);
    br.max_error = max_error;
    br.min_agreement = min_agr;
    br.min_iou = min_iou;
    return br;
}

static void check_judge(void)
{
    td_measured_output o[3] = {
        out("scores", 0.20, 0.96, -1),
        out("map", 0.30, -1, 0.93),
        out("aux", 0.50, -1, -1),
    };
    td_measured m = {.out = o, .n_out = 3};
    td_bound_report br = bound(0.6, 0.95, 0.9);
    td_bound_step st;
    CHECK(td_bound_judge(&m, &br, &st) == 1);
    CHECK(st.n_judged == 3);
    CHECK(st.rel_l2 == 0.50 && !strcmp(st.rel_l2_at, "aux"));
    CHECK(st.agreement == 0.96 && !strcmp(st.agreement_at, "scores"));
    CHECK(st.iou == 0.93 && !strcmp(st.iou_at, "map"));
    /* the largest share: rel 0.5 / 0.6, agreement 0.04 / 0.05 = 0.8,
     * IoU 0.07 / 0.1 = 0.7 */
    CHECK_NEAR(td_bound_use(&br, &st), 0.5 / 0.6, 1e-12);
    /* only the outputs named: aux no longer counts */
    const char *named[] = {"scores", "map"};
    br.outputs = named;
    br.n_outputs = 2;
    CHECK(td_bound_judge(&m, &br, &st) == 1);
    CHECK(st.n_judged == 2 && st.rel_l2 == 0.30);
    CHECK_NEAR(td_bound_use(&br, &st), 0.8, 1e-12);
    /* a floor broken: outside, and more than 1 used */
    br.min_iou = 0.95;
    CHECK(td_bound_judge(&m, &br, &st) == 0);
    CHECK_NEAR(td_bound_use(&br, &st), 0.07 / 0.05, 1e-12);
    /* without max_error (the floors alone) the rel. L2 counts only
     * through a NaN */
    br = bound(-1, -1, 0.9);
    CHECK(td_bound_judge(&m, &br, &st) == 1);
    CHECK_NEAR(td_bound_use(&br, &st), 0.7, 1e-12);
    o[2].rel_l2 = NAN;
    CHECK(td_bound_judge(&m, &br, &st) == 0);
    CHECK(td_bound_use(&br, &st) == HUGE_VAL);
    o[2].rel_l2 = 0.5;
    /* a floor no output shows bounds nothing: a usage error */
    br = bound(-1, -1, 0.9);
    td_measured m1 = {.out = o, .n_out = 1};
    CHECK(td_bound_judge(&m1, &br, &st) == 1);
    td_err_t err = {0};
    CHECK(td_bound_check(&br, &st, &err) == TD_EUSAGE);
    CHECK(strstr(err.msg, "min_iou bounds nothing here") != NULL);
}

/* within <=> use <= 1, over a grid of measurements and bounds */
static void check_edge(void)
{
    const double rels[] = {0, 0.05, 0.1, 0.2, 0.4};
    const double vals[] = {-1, 0.5, 0.9, 0.95, 0.99, 1};
    const double maxes[] = {-1, 0.1, 0.2};
    const double floors[] = {-1, 0.9, 0.95, 1};
    size_t n = 0;
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 6; b++)
            for (size_t c = 0; c < 6; c++)
                for (size_t d = 0; d < 3; d++)
                    for (size_t e = 0; e < 4; e++)
                        for (size_t f = 0; f < 4; f++) {
                            td_measured_output o[2] = {
                                out("s", rels[a], vals[b], -1),
                                out("m", rels[a] / 2, -1, vals[c]),
                            };
                            td_measured m = {.out = o, .n_out = 2};
                            td_bound_report br =
                                bound(maxes[d], floors[e], floors[f]);
                            td_bound_step st;
                            int w = td_bound_judge(&m, &br, &st);
                            double u = td_bound_use(&br, &st);
                            CHECK_MSG(w == (u <= 1), "rel %g agr %g iou %g "
                                      "bound %g %g %g: within %d, use %g",
                                      rels[a], vals[b], vals[c], maxes[d],
                                      floors[e], floors[f], w, u);
                            n++;
                        }
    CHECK(n == 5 * 6 * 6 * 3 * 4 * 4);
    /* nothing bound: nothing used */
    td_measured_output o = out("y", 0.3, 0.5, 0.5);
    td_measured m = {.out = &o, .n_out = 1};
    td_bound_report br = bound(-1, -1, -1);
    td_bound_step st;
    td_bound_judge(&m, &br, &st);
    CHECK(td_bound_use(&br, &st) == 0);
}

/* The judge's score: its share is the fall from the original's over the
 * room the floor leaves; within <=> at most 1, also with no room. */
static void check_score(void)
{
    td_judge j = {.name = "judge"};
    td_measured_output o = out("y", 0.01, -1, -1);
    td_measured m = {.out = &o, .n_out = 1, .judge = "judge"};
    td_bound_report br = bound(-1, -1, -1);
    br.judge = &j;
    br.score_original = 0.99;
    br.min_score = 0.95;
    td_bound_step st;
    m.score = 0.97;
    CHECK(td_bound_judge(&m, &br, &st) == 1 && st.score == 0.97);
    CHECK_NEAR(td_bound_use(&br, &st), 0.5, 1e-9);
    m.score = 0.94;
    CHECK(td_bound_judge(&m, &br, &st) == 0);
    CHECK_NEAR(td_bound_use(&br, &st), 1.25, 1e-9);
    m.score = 1.2;   /* better than the original: nothing used */
    CHECK(td_bound_judge(&m, &br, &st) == 1);
    CHECK(td_bound_use(&br, &st) == 0);
    /* a measurement the judge did not score is outside */
    m.judge = NULL;
    CHECK(td_bound_judge(&m, &br, &st) == 0 && isnan(st.score));
    CHECK(td_bound_use(&br, &st) == HUGE_VAL);
    m.judge = "judge";
    /* a judge alone bounds something: no usage error */
    td_err_t err = {0};
    CHECK(td_bound_check(&br, &st, &err) == TD_OK);
    /* with max_error too, the larger share decides */
    br.max_error = 0.02;
    m.score = 0.98;
    CHECK(td_bound_judge(&m, &br, &st) == 1);
    CHECK_NEAR(td_bound_use(&br, &st), 0.5, 1e-9);
    o.rel_l2 = 0.03;
    CHECK(td_bound_judge(&m, &br, &st) == 0);
    CHECK_NEAR(td_bound_use(&br, &st), 1.5, 1e-9);
    /* the grid: scores around floors with and without room */
    const double scores[] = {0.5, 0.9, 0.95, 0.99, 1, 1.5};
    const double floors[] = {0.9, 0.95, 1, 1.2};
    o.rel_l2 = 0;
    br.max_error = -1;
    for (size_t a = 0; a < 6; a++)
        for (size_t b = 0; b < 4; b++)
            for (size_t c = 0; c < 6; c++) {
                br.score_original = scores[a];
                br.min_score = floors[b];
                m.score = scores[c];
                int w = td_bound_judge(&m, &br, &st);
                double u = td_bound_use(&br, &st);
                CHECK_MSG(w == (u <= 1), "original %g floor %g score %g: "
                          "within %d, use %g", scores[a], floors[b],
                          scores[c], w, u);
            }
}

int main(void)
{
    check_judge();
    check_edge();
    check_score();
    return TCHECK_DONE();
}
