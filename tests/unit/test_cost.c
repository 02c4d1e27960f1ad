/* The latency model: a batch of N costs N times the work but the per-node
 * overhead once, so small layers' chains look less costly at batch 32 than
 * at batch 1; an unknown batch counts as 1; the model stays linear in the
 * batch where compute dominates. */
#include <math.h>

#include "passes/td_cost.h"
#include "tcheck.h"

static td_layer conv3x3(int64_t c, int64_t hw, int64_t batch)
{
    td_layer l = {0};
    l.kind = TD_LAYER_CONV;
    l.cin = l.cout = l.cin_g = c;
    l.group = 1;
    l.nsp = 2;
    l.k[0] = l.k[1] = 3;
    l.in_sp[0] = l.in_sp[1] = l.out_sp[0] = l.out_sp[1] = hw;
    l.dtype = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    l.batch = batch;
    return l;
}

int main(void)
{
    int64_t r[2] = {16, 16};
    td_layer b0 = conv3x3(32, 16, 0), b1 = conv3x3(32, 16, 1);
    td_layer b8 = conv3x3(32, 16, 8), b16 = conv3x3(32, 16, 16);
    td_layer b32 = conv3x3(32, 16, 32);
    CHECK(td_cost_layer_seconds(&b0) == td_cost_layer_seconds(&b1));
    CHECK(td_cost_chain_seconds(&b0, TD_TUCKER2, r) ==
          td_cost_chain_seconds(&b1, TD_TUCKER2, r));
    double t1 = td_cost_layer_seconds(&b1), t8 = td_cost_layer_seconds(&b8);
    double t16 = td_cost_layer_seconds(&b16), t32 = td_cost_layer_seconds(&b32);
    CHECK_MSG(t32 > 8 * t1, "batch 32: %g s, batch 1: %g s", t32, t1);
    /* t(N) = N x work + overhead: equal steps per added sample */
    CHECK_MSG(fabs((t32 - t16) - 2 * (t16 - t8)) < 1e-9 * t32,
              "t8 %g t16 %g t32 %g", t8, t16, t32);
    double q1 = td_cost_chain_seconds(&b1, TD_TUCKER2, r) / t1;
    double q32 = td_cost_chain_seconds(&b32, TD_TUCKER2, r) / t32;
    CHECK_MSG(q32 < q1, "chain/layer at batch 32 %g, at batch 1 %g", q32, q1);
    /* CP's depthwise convs and SVD scale the same way */
    int64_t rc[1] = {24};
    CHECK(td_cost_chain_seconds(&b32, TD_CP, rc) >
          8 * td_cost_chain_seconds(&b1, TD_CP, rc));
    return TCHECK_DONE();
}
