#!/usr/bin/env bash
# Rank rounding and the chains chosen under a MACs budget (run by ctest):
#   bash tests/scripts/rank_multiple.sh BINARY SRCDIR
#
# By default the ranks --target-flops allocates on modes of 64 or more are
# multiples of 16 (or below 16, or the whole mode), free on narrower ones; --rank-multiple K
# rounds every mode to K (1: free ranks) and is recorded in the output's
# options. Under --target-flops, auto writes no CP chain its cost model
# predicts slower than the Tucker-2 chain of the same MACs (CP's depthwise
# convs).
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
# Random weights have flat spectra: the data-free guards (protection,
# the layer error cap) would keep the layers this test is about.
GUARDS_OFF="--no-protect --max-layer-error off"

# three 3x3 convs on 64 and 128 channels at 28x28 and one on 32 channels
/usr/bin/python3 - "$T" <<'PY'
import sys, numpy as np, onnx
from onnx import helper as h, numpy_helper as nh, TensorProto as P
rng = np.random.default_rng(5)
chans = [64, 128, 128, 64, 32]
nodes, inits, x = [], [], "x"
for i in range(len(chans) - 1):
    w = rng.standard_normal((chans[i + 1], chans[i], 3, 3)).astype(np.float32)
    inits.append(nh.from_array(w / 30, "w%d" % i))
    y = "y" if i == len(chans) - 2 else "h%d" % i
    nodes.append(h.make_node("Conv", [x, "w%d" % i], [y], name="c%d" % i,
                             pads=[1, 1, 1, 1]))
    x = y
g = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", P.FLOAT, [1, 64, 28, 28])],
                 [h.make_tensor_value_info("y", P.FLOAT, [1, 32, 28, 28])], inits)
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), sys.argv[1] + "/m.onnx")
PY

# ranks of every replaced layer as "node method r,r;..."
ranks() { json "$1" "';'.join('%s %s %s' % (l['node'], l['method'], ','.join(map(str, l['ranks']))) for l in r['layers'] if l['method'] != 'keep')"; }
# Cout, Cin of each conv: a rank equal to its mode is always allowed
sizes="c0:128,64 c1:128,128 c2:64,128 c3:32,64"
# on_grid JSON K FREE [WIDE]: every Tucker-2 rank of at least FREE (below
# its mode) of a mode at least WIDE wide is a multiple of K; prints the
# offenders
on_grid() {
  json "$1" "[ (l['node'], l['ranks']) for l in r['layers'] if l['method'] == 'tucker2' and any(
      rk % $2 for rk, n in zip(l['ranks'], dict(s.split(':') for s in '$sizes'.split())[l['node']].split(','))
      if $3 <= rk < int(n) and int(n) >= ${4:-1})]"
}

for budget in "--target-flops 0.5" "--target-flops 0.3"; do
  if "$BIN" compress "$T/m.onnx" -o "$T/d.onnx" $GUARDS_OFF $budget --no-measure --quiet \
       --report "$T/d.json" 2> "$T/err"; then
    echo "default, $budget: $(ranks "$T/d.json")"
    [ "$(on_grid "$T/d.json" 16 16 64)" = "[]" ] ||
      bad "default $budget: ranks of 16 or more off the 16-grid: $(on_grid "$T/d.json" 16 16 64)"
    [ "$(json "$T/d.json" "sum(l['method'] != 'keep' for l in r['layers'])")" -ge 2 ] ||
      bad "default $budget: fewer than two layers replaced: $(ranks "$T/d.json")"
  else
    bad "default $budget failed: $(cat "$T/err")"
  fi
done

# --method tucker2 and the default rounding: on the 16-grid too
if "$BIN" compress "$T/m.onnx" -o "$T/t.onnx" $GUARDS_OFF --target-flops 0.5 --method tucker2 \
     --no-measure --quiet --report "$T/t.json" 2> "$T/err"; then
  echo "tucker2, default rounding: $(ranks "$T/t.json")"
  [ "$(on_grid "$T/t.json" 16 16 64)" = "[]" ] ||
    bad "tucker2 default: ranks of 16 or more off the 16-grid: $(on_grid "$T/t.json" 16 16 64)"
else
  bad "tucker2 default failed: $(cat "$T/err")"
fi

# under --target-flops, no CP chain slower (by the cost model) than
# Tucker-2 at the same MACs: here CP's depthwise convs on 28x28 maps
if "$BIN" compress "$T/m.onnx" -o "$T/d.onnx" $GUARDS_OFF --target-flops 0.5 --no-measure \
     --quiet --report "$T/d.json" 2> "$T/err"; then
  cps=$(json "$T/d.json" "[l['node'] for l in r['layers'] if l['method'] == 'cp']")
  [ "$cps" = "[]" ] || bad "--target-flops 0.5 wrote CP chains on $cps: $(ranks "$T/d.json")"
fi

# --rank-multiple 1: free ranks (some off the 16-grid), recorded
if "$BIN" compress "$T/m.onnx" -o "$T/k1.onnx" $GUARDS_OFF --target-flops 0.5 --rank-multiple 1 \
     --method tucker2 --no-measure --quiet --report "$T/k1.json" 2> "$T/err"; then
  echo "--rank-multiple 1: $(ranks "$T/k1.json")"
  [ "$(on_grid "$T/k1.json" 16 1)" != "[]" ] ||
    bad "--rank-multiple 1: every rank a multiple of 16: $(ranks "$T/k1.json")"
  opts=$(/usr/bin/python3 -c "import onnx,sys; m=onnx.load(sys.argv[1]); print([p.value for p in m.metadata_props if p.key == 'onnxtd.options'])" "$T/k1.onnx")
  case $opts in *rank_multiple=1*) ;; *) bad "--rank-multiple 1 not in the options recorded: $opts" ;; esac
else
  bad "--rank-multiple 1 failed: $(cat "$T/err")"
fi

# --rank-multiple 8 rounds every mode, the 32-wide one too
if "$BIN" compress "$T/m.onnx" -o "$T/k8.onnx" $GUARDS_OFF --target-flops 0.4 --rank-multiple 8 \
     --method tucker2 --no-measure --quiet --report "$T/k8.json" 2> "$T/err"; then
  echo "--rank-multiple 8: $(ranks "$T/k8.json")"
  [ "$(on_grid "$T/k8.json" 8 1)" = "[]" ] ||
    bad "--rank-multiple 8: ranks off the 8-grid: $(on_grid "$T/k8.json" 8 1)"
else
  bad "--rank-multiple 8 failed: $(cat "$T/err")"
fi

# 0 is not a rank multiple the CLI takes
"$BIN" compress "$T/m.onnx" -o "$T/z.onnx" $GUARDS_OFF --target-flops 0.5 --rank-multiple 0 2> "$T/err"
[ $? = 2 ] || bad "--rank-multiple 0 not a usage error: $(cat "$T/err")"

td_done rank_multiple
