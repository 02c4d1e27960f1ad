/* Which calibration inputs are held out (td_calib_holdout) and which outputs
 * count as class scores when measuring (td_eval_acc_note_inputs):
 * - exactly k of n are held out, one in each of k equal blocks, at offsets
 *   0, 1, 2, ...; n = 8, k = 2 gives 0 and 5;
 * - a list alternating between two classes (every other input) has both
 *   classes held out whenever k >= 2, and a list sorted by class (first
 *   half one class) has both too;
 * - an output shaped like one of the inputs (a recurrent state fed back)
 *   gets no top-1 agreement; the same output with inputs of other shapes
 *   does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calib/td_calib.h"
#include "eval/td_eval_internal.h"
#include "tcheck.h"

#define MAX_N 64

static void check_counts(void)
{
    unsigned char held[MAX_N];
    for (size_t n = 1; n <= MAX_N; n++)
        for (size_t k = 0; k <= n; k++) {
            td_calib_holdout(n, k, held);
            size_t c = 0;
            for (size_t i = 0; i < n; i++)
                c += held[i];
            CHECK_MSG(c == k, "n %zu k %zu: %zu held out", n, k, c);
        }
    td_calib_holdout(8, 2, held);
    CHECK(held[0] && held[5]);
    td_calib_holdout(16, 4, held);
    CHECK(held[0] && held[5] && held[10] && held[15]);
}

/* both classes among the held-out inputs for class(i) = alternating or
 * sorted halves */
static void check_classes(void)
{
    unsigned char held[MAX_N];
    for (size_t n = 4; n <= MAX_N; n += 2)
        for (size_t k = 2; k <= n / 2; k++) {
            td_calib_holdout(n, k, held);
            int alt[2] = {0, 0}, half[2] = {0, 0};
            for (size_t i = 0; i < n; i++)
                if (held[i]) {
                    alt[i % 2] = 1;
                    half[i >= n / 2] = 1;
                }
            CHECK_MSG(alt[0] && alt[1], "n %zu k %zu: one class of an alternating list", n, k);
            CHECK_MSG(half[0] && half[1], "n %zu k %zu: one half of a sorted list", n, k);
        }
}

static void check_state_output(void)
{
    int64_t sdims[3] = {2, 1, 128}, xdims[2] = {1, 576};
    float state[256], out_a[256], out_b[256], x[576] = {0};
    for (int i = 0; i < 256; i++) {
        state[i] = (float)i;
        out_a[i] = (float)(i % 7);
        out_b[i] = (float)(i % 5);
    }
    td_array in[2] = {
        {.dtype = TD_DT_FLOAT, .ndim = 2, .dims = xdims, .data = x, .nbytes = sizeof x},
        {.dtype = TD_DT_FLOAT, .ndim = 3, .dims = sdims, .data = state, .nbytes = sizeof state},
    };
    td_array a = {.dtype = TD_DT_FLOAT, .ndim = 3, .dims = sdims, .data = out_a, .nbytes = sizeof out_a};
    td_array b = a;
    b.data = out_b;

    td_eval_acc m;
    memset(&m, 0, sizeof m);
    td_eval_acc_note_inputs(&m, &a, in, 2);
    td_eval_acc_add(&m, &a, &b, -1, 0);
    CHECK(m.state && !m.scores && m.rows == 0 && m.state_input == 1);

    memset(&m, 0, sizeof m);
    td_eval_acc_note_inputs(&m, &a, in, 1);   /* the state input left out */
    td_eval_acc_add(&m, &a, &b, -1, 0);
    CHECK(!m.state && m.scores && m.rows == 2);
}

/* A loop's hold-out is one sequence: the last k, whatever n. */
static void check_tail(void)
{
    unsigned char held[64];
    for (size_t n = 1; n <= 64; n++)
        for (size_t k = 0; k <= n; k++) {
            memset(held, 7, sizeof held);
            td_calib_holdout_tail(n, k, held);
            for (size_t i = 0; i < n; i++)
                CHECK(held[i] == (i >= n - k));
        }
}

int main(void)
{
    check_counts();
    check_tail();
    check_classes();
    check_state_output();
    return TCHECK_DONE();
}
