"""How much the taps' metric (decompose/td_whiten.h, "Taps") helps one
layer at a time: for chosen 3x3 convs of ISNet, the output error on a
held-out calibration photo of Tucker-2 at half the layer's ranks, fitted
data-free, in the channel metric alone (S), with the full 9 x 9 tap
correlation (S x T), and with the separable one (S x T_h x T_w, what
onnxtd builds), each from the other calibration photos' activations.

    python3 bench/taps/layers.py [LAMBDA]

Writes bench/out/taps/ (the activations: ~100 MB). Needs node with
onnxruntime-node (scripts/setup.sh), python3-onnx, numpy and torch."""
import glob, json, os, subprocess, sys
import numpy as np, onnx, torch
from onnx import helper, numpy_helper, TensorProto

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
MODEL = os.path.join(ROOT, 'bench/models/isnet_fp16.onnx')
CALIB = os.path.join(ROOT, 'bench/out/fidelity_bound/calib_npy/isnet')
OUT = os.path.join(ROOT, 'bench/out/taps')
TENSORS = ['/stage2/pool2/MaxPool_output_0', '/stage3/Concat_6_output_0',
           '/stage4/Concat_output_0']
PHOTOS = ['camera', 'coins', 'page', 'retina']
TEST = 'page'
lam = float(sys.argv[1]) if len(sys.argv) > 1 else 0.1
torch.set_num_threads(1)

os.makedirs(OUT, exist_ok=True)
m = onnx.load(MODEL)
if not os.path.exists(os.path.join(OUT, 'calib_isnet_%s.json' % TEST)):
    mx = onnx.load(MODEL)
    for n in TENSORS:
        mx.graph.output.append(helper.make_tensor_value_info(n, TensorProto.FLOAT16, None))
    onnx.save(mx, os.path.join(OUT, 'isnet_x.onnx'))
    subprocess.check_call(['node', os.path.join(ROOT, 'bench/taps/activations.js'),
                           os.path.join(OUT, 'isnet_x.onnx'), OUT] +
                          [os.path.join(CALIB, 'calib_isnet_%s.npy' % p) for p in PHOTOS])

def act(photo, x):
    meta = json.load(open(os.path.join(OUT, 'calib_isnet_%s.json' % photo)))
    fn = 'calib_isnet_%s_%s.bin' % (photo, x.replace('/', '_'))
    return np.fromfile(os.path.join(OUT, fn), np.float16).reshape(meta[fn]['dims']).astype(np.float64)

def roots(r):
    w, v = np.linalg.eigh(r)
    w = np.maximum(w, 0)
    return (v * np.sqrt(w)) @ v.T, (v / np.sqrt(np.maximum(w, 1e-300))) @ v.T

def tucker2(w, r1, r2, sweeps=10):
    co, c, _ = w.shape
    v = np.linalg.eigh(w.transpose(1, 0, 2).reshape(c, -1) @ w.transpose(1, 0, 2).reshape(c, -1).T)[1][:, ::-1][:, :r2]
    for _ in range(sweeps):
        y = np.einsum('oct,ci->oit', w, v).reshape(co, -1)
        u = np.linalg.eigh(y @ y.T)[1][:, ::-1][:, :r1]
        y = np.einsum('oct,oi->cit', w, u).reshape(c, -1)
        v = np.linalg.eigh(y @ y.T)[1][:, ::-1][:, :r2]
    return np.einsum('oct,po,dc->pdt', w, u @ u.T, v @ v.T)

def acf(x, d):  # autocorrelation at lags -2d..2d on both axes, mean over all
    n, c, h, w = x.shape
    r = np.zeros((5, 5))
    t = torch.from_numpy(x)
    for i, dy in enumerate(range(-2, 3)):
        for j, dx in enumerate(range(-2, 3)):
            sy, sx = dy * d, dx * d
            a = t[:, :, max(0, sy):h + min(0, sy), max(0, sx):w + min(0, sx)]
            b = t[:, :, max(0, -sy):h + min(0, -sy), max(0, -sx):w + min(0, -sx)]
            r[i, j] = float((a * b).mean())
    return r

inits = {i.name: i for i in m.graph.initializer}
print('lambda %g, held-out photo %s: output rel. error of Tucker-2 at half the ranks' % (lam, TEST))
print('| conv | lag-1 correlation | data-free | channels | 9 x 9 taps | separable taps |')
print('|---|---|---|---|---|---|')
for nd in m.graph.node:
    if nd.op_type != 'Conv' or nd.input[0] not in TENSORS or nd.input[1] not in inits:
        continue
    w = numpy_helper.to_array(inits[nd.input[1]]).astype(np.float64)
    if w.shape[2] != 3:
        continue
    d = next((list(a.ints)[0] for a in nd.attribute if a.name == 'dilations'), 1)
    xs = [act(p, nd.input[0]) for p in PHOTOS if p != TEST]
    co, c = w.shape[:2]
    mom = sum(np.einsum('nchw,ndhw->cd', x, x) for x in xs) / sum(x.shape[0] * x.shape[2] * x.shape[3] for x in xs)
    r = sum(acf(x, d) for x in xs)
    r9 = np.array([[r[a // 3 - b // 3 + 2, a % 3 - b % 3 + 2] for b in range(9)] for a in range(9)]) / r[2, 2]
    rh = np.array([[r[a - b + 2, 2] for b in range(3)] for a in range(3)]) / r[2, 2]
    rw = np.array([[r[2, a - b + 2] for b in range(3)] for a in range(3)]) / r[2, 2]
    sc, sci = roots(mom + lam * np.trace(mom) / c * np.eye(c))
    s9, s9i = roots((r9 + lam * np.eye(9)) / (1 + lam))
    sh, shi = roots((rh + lam * np.eye(3)) / (1 + lam))
    sw, swi = roots((rw + lam * np.eye(3)) / (1 + lam))
    taps = {'free': None, 'chan': (np.eye(9), np.eye(9)), 'full': (s9, s9i),
            'sep': (np.kron(sh, sw), np.kron(shi, swi))}
    xt = torch.from_numpy(act(TEST, nd.input[0]))
    y = torch.nn.functional.conv2d(xt, torch.from_numpy(w), padding=d, dilation=d)
    res = {}
    for k, t in taps.items():
        wf = w.reshape(co, c, 9)
        if t:
            wf = np.einsum('ocs,cd,st->odt', wf, sc, t[0])
        a = tucker2(wf, co // 2, c // 2)
        if t:
            a = np.einsum('ocs,cd,st->odt', a, sci, t[1])
        e = torch.nn.functional.conv2d(xt, torch.from_numpy((w.reshape(co, c, 9) - a).reshape(w.shape)),
                                       padding=d, dilation=d)
        res[k] = float((e ** 2).sum() / (y ** 2).sum()) ** 0.5
    print('| %s | %.2f | %.4f | %.4f | %.4f | %.4f |' % (nd.name, rh[0, 1], res['free'], res['chan'], res['full'], res['sep']))
