"""The tap autocorrelation `compress --calib` saves (taps/X, the rows of
each spatial axis at lags 0..2) against torch on the bundled small CNN
(conv, batch norm, ReLU; stride 2 for conv1 and conv3), for the inputs of
its four 3x3 convs over the calibration .npy inputs:

    taps_reference.py MODEL.onnx STATS.onnx CALDIR

Exact (1e-4) where X has 16 channels or fewer; beyond, the statistics
model projects X onto 16 random directions first (passes/td_stats_taps.c),
and its ratios to lag 0 must agree within 0.02. Exit 1 on a difference,
or when no input has a lag-1 correlation above 0.3 (a test on inputs
whose lags are all alike would not tell a wrong lag from a right one)."""
import sys, glob
import numpy as np, onnx, torch
from onnx import numpy_helper
model, stats, cal = sys.argv[1:4]
m = onnx.load(model)
w = {t.name: torch.from_numpy(numpy_helper.to_array(t).astype(np.float64)) for t in m.graph.initializer}
s = {t.name: numpy_helper.to_array(t) for t in onnx.load(stats).graph.initializer}
def layer(x, i, stride):
    y = torch.nn.functional.conv2d(x, w['conv%d.weight' % i], w['conv%d.bias' % i], stride=stride, padding=1)
    y = torch.nn.functional.batch_norm(y, w['bn%d.mean' % i], w['bn%d.var' % i], w['bn%d.gamma' % i], w['bn%d.beta' % i], eps=1e-5)
    return torch.relu(y)
acc = {}
for f in sorted(glob.glob(cal + '/*.npy')):
    x = torch.from_numpy(np.load(f).astype(np.float64))
    v = {'input': x}
    v['r0'] = layer(x, 0, 1); v['r1'] = layer(v['r0'], 1, 2); v['r2'] = layer(v['r1'], 2, 1)
    for k, t in v.items():
        a = t.numpy(); r = np.zeros((2, 3))
        for ax in range(2):
            n = a.shape[2 + ax]
            for lag in range(3):
                r[ax, lag] = (np.take(a, range(0, n - lag), 2 + ax) * np.take(a, range(lag, n), 2 + ax)).mean()
        acc.setdefault(k, []).append(r)
bad = 0
for k, rs in acc.items():
    e = np.mean(rs, 0); e = e / e[:, :1]
    t = s.get('taps/' + k)
    if t is None or t.shape != (2, 3):
        print('FAIL: taps/%s: %s' % (k, None if t is None else t.shape)); bad += 1; continue
    t = t / t[:, :1]
    # exact for 16 channels or fewer; a 16-direction projection beyond
    c = v[k].shape[1]; tol = 1e-4 if c <= 16 else 0.02
    worst = np.abs(t - e).max()
    print('taps/%s (%d channels): tool %s, reference %s, |diff| %.2g (tol %g)' % (
        k, c, np.round(t[:, 1:], 3).tolist(), np.round(e[:, 1:], 3).tolist(), worst, tol))
    if worst > tol:
        print('FAIL: taps/%s differs from the reference' % k); bad += 1
# the inputs are smooth: the test would not tell a wrong lag from a right one otherwise
if not max(abs(np.mean(rs, 0)[0, 1] / np.mean(rs, 0)[0, 0]) for rs in acc.values()) > 0.3:
    print('FAIL: no input with a lag-1 correlation above 0.3'); bad += 1
sys.exit(1 if bad else 0)
