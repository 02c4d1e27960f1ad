#!/usr/bin/env node
'use strict';
// Task metrics of a model (and of a compressed copy against it) on the real
// inputs of bench/heldout/prep.py, in onnxruntime-node (CPU).
//
//   node bench/heldout/task_eval.js vad ORIG.onnx [COMP.onnx] --clips DIR
//        [--write-calib OUT --every K] [--json]
//   node bench/heldout/task_eval.js rec ORIG.onnx [COMP.onnx] --lines DIR
//        --keys ppocr_keys_v1.txt [--json]
//   node bench/heldout/task_eval.js face ORIG.onnx [COMP.onnx] --images DIR [--json]
//
// vad (Silero VAD v5: inputs input [1, 64+512], state [2,1,128], sr int64):
// each clip runs chunk by chunk with the model's own state carried over, as
// the reference wrapper does (512 new samples at 16 kHz with the previous 64
// as context). A frame is speech when its probability is above 0.5.
// Metrics of COMP against ORIG: frame agreement, F1 of COMP's speech frames
// taking ORIG's as the truth, mean |p_comp - p_orig|.
// --write-calib: ORIG's chunks every K-th frame (with the state ORIG had
// there) as .npy and a manifest OUT/calib.txt for `onnxtd compress --calib`.
//
// rec (PP-OCRv4 rec: x [N,3,48,W] -> [N,T,6625]): greedy CTC decoding (best
// class per step, repeats merged, blank 0 dropped; class i = key i-1, the
// last class the space). Char accuracy = 1 - sum(edit distance)/sum(label
// length) against the rendered labels, for each model; line accuracy =
// exact matches; agreement = 1 - the edit distance of COMP's text to ORIG's.
//
// face (RetinaFace MobileNet-0.25, insightface's anchors: data [1,3,640,640]
// RGB 0-255 -> per stride 32/16/8 face_rpn_cls_prob_reshape_strideS [1,2A,
// H,W] (background then face probability of each of A=2 anchors),
// face_rpn_bbox_pred_strideS [1,4A,H,W]): every anchor whose face
// probability is at least 0.5 gives a box, then non-maximum suppression at
// IoU 0.4. Metrics of COMP against ORIG's faces taken as the truth: F1 of
// the faces matched at box IoU >= 0.5 (greedily, by probability), the mean
// IoU of the matched boxes, the mean |p_comp - p_orig| over every anchor.

const fs = require('fs');
const path = require('path');
const C = require('../../tools/ort/ort_common');

const VAD_CHUNK = 512, VAD_CONTEXT = 64, VAD_RATE = 16000, VAD_THRESHOLD = 0.5;

function parseArgs(argv) {
  const o = { task: argv[0], models: [], every: 8, json: false };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(a + ' needs a value'); return argv[++i]; };
    switch (a) {
      case '--clips': o.clips = val(); break;
      case '--lines': o.lines = val(); break;
      case '--keys': o.keys = val(); break;
      case '--images': o.images = val(); break;
      case '--write-calib': o.writeCalib = val(); break;
      case '--every': o.every = Number(val()); break;
      case '--json': o.json = true; break;
      default:
        if (a.startsWith('-')) throw new Error('unknown option ' + a);
        o.models.push(a);
    }
  }
  const ok = (o.task === 'vad' && o.clips) || (o.task === 'rec' && o.lines && o.keys) ||
             (o.task === 'face' && o.images);
  if (!ok || o.models.length < 1 || o.models.length > 2)
    throw new Error('usage: task_eval.js vad ORIG [COMP] --clips DIR | rec ORIG [COMP] --lines DIR --keys FILE' +
                    ' | face ORIG [COMP] --images DIR');
  return o;
}

// ------------------------------------------------------------------ .npy
function readNpyF32(file) {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(file + ': not a .npy file');
  const hlen = b[6] === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const hoff = b[6] === 1 ? 10 : 12;
  const head = b.toString('latin1', hoff, hoff + hlen);
  if (!/'descr': '<f4'/.test(head) || /'fortran_order': True/.test(head))
    throw new Error(file + ': expected little-endian float32 in C order');
  const shape = head.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const body = b.subarray(hoff + hlen);
  const a = new Float32Array(body.length / 4);
  new Uint8Array(a.buffer).set(body);
  return { data: a, shape };
}

function writeNpy(file, descr, shape, bytes) {
  const sh = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${sh}, }`;
  const total = 10 + h.length + 1;
  h += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(h.length, 8);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(h, 'latin1'), Buffer.from(bytes)]));
}

// ------------------------------------------------------------------ vad
async function vadRun(ort, sess, x, calib) {
  const probs = [];
  let state = new Float32Array(2 * 128);
  const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_RATE)]), []);
  const frames = Math.floor(x.length / VAD_CHUNK);
  for (let f = 0; f < frames; f++) {
    const chunk = new Float32Array(VAD_CONTEXT + VAD_CHUNK);
    const lo = f * VAD_CHUNK - VAD_CONTEXT;
    for (let i = 0; i < chunk.length; i++) chunk[i] = lo + i >= 0 ? x[lo + i] : 0;
    if (calib && f % calib.every === calib.offset) calib.take(chunk, state);
    const out = await sess.run({
      input: new ort.Tensor('float32', chunk, [1, chunk.length]),
      state: new ort.Tensor('float32', state, [2, 1, 128]),
      sr,
    });
    probs.push(out.output.data[0]);
    state = Float32Array.from(out.stateN.data);
  }
  return probs;
}

function vadCompare(pa, pb) {
  let agree = 0, tp = 0, fp = 0, fn = 0, abs = 0, speech = 0;
  for (let i = 0; i < pa.length; i++) {
    const a = pa[i] > VAD_THRESHOLD, b = pb[i] > VAD_THRESHOLD;
    if (a === b) agree++;
    if (a && b) tp++; else if (b) fp++; else if (a) fn++;
    if (a) speech++;
    abs += Math.abs(pa[i] - pb[i]);
  }
  const f1 = tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : 1;
  return { frames: pa.length, speech_frames_orig: speech, agreement: agree / pa.length, f1, mean_abs_diff: abs / pa.length };
}

async function vad(o, ort, sa, sb) {
  const man = JSON.parse(fs.readFileSync(path.join(o.clips, 'clips.json'), 'utf8'));
  const rows = [], all = [[], []];
  let calib = null, lines = [];
  if (o.writeCalib) {
    fs.mkdirSync(o.writeCalib, { recursive: true });
    writeNpy(path.join(o.writeCalib, 'sr.npy'), '<i8', [], BigInt64Array.from([BigInt(VAD_RATE)]).buffer);
  }
  for (const [ci, e] of man.clips.entries()) {
    const x = readNpyF32(path.join(o.clips, e.file)).data;
    if (o.writeCalib) {
      calib = {
        every: o.every, offset: ci % o.every, n: 0,
        take(chunk, state) {
          const stem = `${e.name}_${String(this.n++).padStart(3, '0')}`;
          writeNpy(path.join(o.writeCalib, stem + '_input.npy'), '<f4', [1, chunk.length], chunk.buffer);
          writeNpy(path.join(o.writeCalib, stem + '_state.npy'), '<f4', [2, 1, 128], state.buffer.slice(0));
          lines.push(`input=${stem}_input.npy state=${stem}_state.npy sr=sr.npy`);
        },
      };
    }
    const pa = await vadRun(ort, sa, x, calib);
    const r = { input: e.name, speech_share_orig: pa.filter((p) => p > VAD_THRESHOLD).length / pa.length };
    all[0].push(...pa);
    if (sb) {
      const pb = await vadRun(ort, sb, x, null);
      Object.assign(r, vadCompare(pa, pb));
      all[1].push(...pb);
    }
    rows.push(r);
  }
  if (o.writeCalib) fs.writeFileSync(path.join(o.writeCalib, 'calib.txt'), lines.join('\n') + '\n');
  const rep = { task: 'vad', orig: o.models[0], clips: rows.length, frames: all[0].length,
                speech_share_orig: all[0].filter((p) => p > VAD_THRESHOLD).length / all[0].length, per_input: rows };
  if (sb) {
    Object.assign(rep, vadCompare(all[0], all[1]));
    rep.comp = o.models[1];
    rep.f1_min = Math.min(...rows.map((r) => r.f1));
  }
  if (o.writeCalib) rep.calib_samples = lines.length;
  return rep;
}

// ------------------------------------------------------------------ rec
function editDistance(a, b) {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return d[b.length];
}

function ctcGreedy(p, steps, classes, keys) {
  let s = '', last = -1;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (p[t * classes + c] > p[t * classes + best]) best = c;
    if (best !== last && best !== 0) s += best - 1 < keys.length ? keys[best - 1] : ' ';
    last = best;
  }
  return s;
}

async function recText(ort, sess, e, dir, keys) {
  const { data, shape } = readNpyF32(path.join(dir, e.file));
  const out = await sess.run({ [sess.inputNames[0]]: new ort.Tensor('float32', data, shape) });
  const y = out[sess.outputNames[0]];
  return ctcGreedy(y.data, y.dims[1], y.dims[2], keys);
}

async function rec(o, ort, sa, sb) {
  const man = JSON.parse(fs.readFileSync(path.join(o.lines, 'lines.json'), 'utf8'));
  const keys = fs.readFileSync(o.keys, 'utf8').split('\n').filter((k, i, a) => i < a.length - 1 || k !== '');
  const rows = [];
  // PaddleOCR's own RecMetric (ignore_space, its default) drops every space
  // from prediction and label; counted here besides the strict accuracy.
  const ns = (t) => t.replace(/ /g, '');
  let chars = 0, ea = 0, eb = 0, eab = 0, la = 0, lb = 0, na = 0, cns = 0, ean = 0, ebn = 0;
  for (const e of man.lines) {
    const ta = await recText(ort, sa, e, o.lines, keys);
    const r = { input: e.name, label: e.label, orig: ta };
    chars += e.label.length;
    cns += ns(e.label).length;
    ea += editDistance(ta, e.label);
    ean += editDistance(ns(ta), ns(e.label));
    la += ta === e.label ? 1 : 0;
    na += ta.length;
    if (sb) {
      const tb = await recText(ort, sb, e, o.lines, keys);
      r.comp = tb;
      eb += editDistance(tb, e.label);
      ebn += editDistance(ns(tb), ns(e.label));
      eab += editDistance(tb, ta);
      lb += tb === e.label ? 1 : 0;
    }
    rows.push(r);
  }
  const n = man.lines.length;
  const rep = { task: 'rec', orig: o.models[0], lines: n, chars, char_acc_orig: 1 - ea / chars, line_acc_orig: la / n,
                char_acc_nospace_orig: 1 - ean / cns };
  if (sb) Object.assign(rep, { comp: o.models[1], char_acc: 1 - eb / chars, line_acc: lb / n,
                               char_acc_nospace: 1 - ebn / cns,
                               char_agreement: 1 - eab / Math.max(na, 1) });
  rep.per_input = rows;
  return rep;
}

// ------------------------------------------------------------------ face
const FACE_STRIDES = [[32, [32, 16]], [16, [8, 4]], [8, [2, 1]]];  // stride, anchor scales
const FACE_BASE = 16, FACE_PROB = 0.5, FACE_NMS = 0.4, FACE_MATCH = 0.5;

function boxIou(a, b) {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih;
  return u > 0 ? (iw * ih) / u : 0;
}

// The faces of one run: decoded anchors above FACE_PROB, suppressed; and
// every anchor's face probability (for the mean deviation).
function faceDecode(out) {
  const cand = [], probs = [];
  for (const [s, scales] of FACE_STRIDES) {
    const p = out['face_rpn_cls_prob_reshape_stride' + s], d = out['face_rpn_bbox_pred_stride' + s];
    if (!p || !d) throw new Error('the model has no face_rpn_*_stride' + s + ' outputs');
    const na = scales.length, h = p.dims[2], w = p.dims[3], hw = h * w;
    for (let a = 0; a < na; a++) {
      const side = FACE_BASE * scales[a];
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          const q = i * w + j, prob = p.data[(na + a) * hw + q];
          probs.push(prob);
          if (prob < FACE_PROB) continue;
          const [dx, dy, dw, dh] = [0, 1, 2, 3].map((k) => d.data[(4 * a + k) * hw + q]);
          // anchors centred on FACE_BASE / 2 + the cell's offset
          const cx = FACE_BASE / 2 + j * s + side * dx, cy = FACE_BASE / 2 + i * s + side * dy;
          const bw = side * Math.exp(dw), bh = side * Math.exp(dh);
          cand.push({ prob, box: [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2] });
        }
      }
    }
  }
  cand.sort((x, y) => y.prob - x.prob);
  const faces = [];
  for (const c of cand)
    if (faces.every((f) => boxIou(f.box, c.box) <= FACE_NMS)) faces.push(c);
  return { faces, probs };
}

function faceCompare(ra, rb) {
  const used = new Set();
  let tp = 0, iou = 0;
  for (const fb of rb.faces) {  // by probability: the most sure faces first
    let best = -1, bi = FACE_MATCH;
    ra.faces.forEach((fa, k) => {
      const v = boxIou(fa.box, fb.box);
      if (!used.has(k) && v >= bi) { best = k; bi = v; }
    });
    if (best >= 0) { used.add(best); tp++; iou += bi; }
  }
  let dev = 0;
  for (let i = 0; i < ra.probs.length; i++) dev += Math.abs(ra.probs[i] - rb.probs[i]);
  const fp = rb.faces.length - tp, fn = ra.faces.length - tp;
  return { tp, fp, fn, f1: tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : 1,
           box_iou: tp ? iou / tp : null, mean_abs_diff: dev / ra.probs.length };
}

async function face(o, ort, sa, sb) {
  const man = JSON.parse(fs.readFileSync(path.join(o.images, 'faces.json'), 'utf8'));
  const rows = [];
  let tp = 0, fp = 0, fn = 0, iou = 0, dev = 0, nf = 0;
  for (const e of man.images) {
    const { data, shape } = readNpyF32(path.join(o.images, e.file));
    const feed = { [sa.inputNames[0]]: new ort.Tensor('float32', data, shape) };
    const ra = faceDecode(await sa.run(feed));
    const r = { input: e.name, faces_orig: ra.faces.length, faces_pasted: e.faces_pasted };
    nf += ra.faces.length;
    if (sb) {
      const c = faceCompare(ra, faceDecode(await sb.run(feed)));
      Object.assign(r, c);
      tp += c.tp; fp += c.fp; fn += c.fn; iou += (c.box_iou || 0) * c.tp; dev += c.mean_abs_diff;
    }
    rows.push(r);
  }
  const rep = { task: 'face', orig: o.models[0], images: rows.length, faces_orig: nf, per_input: rows };
  if (sb) Object.assign(rep, { comp: o.models[1], f1: tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : 1,
                               f1_min: Math.min(...rows.map((r) => r.f1)), tp, fp, fn,
                               box_iou: tp ? iou / tp : null, mean_abs_diff: dev / rows.length });
  return rep;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const ort = C.loadOrt();
  const sopts = { threads: 1, opt: 'all' };
  const sa = await C.createSession(ort, o.models[0], sopts);
  const sb = o.models[1] ? await C.createSession(ort, o.models[1], sopts) : null;
  const run = { vad, rec, face }[o.task];
  const rep = await run(o, ort, sa, sb);
  if (o.json) { console.log(JSON.stringify(rep)); return; }
  const { per_input: _, ...head } = rep;
  console.log(JSON.stringify(head, null, 1));
}

module.exports = { readNpyF32, faceDecode };
if (require.main === module)
  main().catch((e) => { console.error('task_eval.js: ' + (e && e.message || e)); process.exitCode = 2; });
