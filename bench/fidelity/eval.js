#!/usr/bin/env node
'use strict';
// Output fidelity and latency of a compressed model against its original in
// onnxruntime (CPU), on the real inputs written by prep.py.
//
//   node bench/fidelity/eval.js ORIG.onnx COMP.onnx --task isnet|det|cls|rec
//        --manifest DIR/TASK.json [--runs N] [--warmup N] [--threads N]
//        [--cache DIR] [--only N] [--no-time] [--json]
//
// isnet: IoU of the masks thresholded at 0.5 (union empty -> 1), mean |diff|.
// det:   IoU of the probability maps thresholded at 0.3 (PaddleOCR's DB
//        binarisation threshold), mean |diff|; and the text boxes DB's
//        post-processing would find (dbBoxes), the compressed model's
//        against the original's: F1 of the boxes matched at IoU >= 0.5.
// rec:   char accuracy of the greedy CTC decoding (argmax per step, repeats
//        merged, blank 0 dropped) against the original's decoding:
//        1 - edit distance / length, over the batch's lines.
// cls:   argmax agreement with the original over the batch, and accuracy of
//        both against the rendered labels (0 = upright, 1 = rotated 180).
// Latency: both sessions with the same options, runs interleaved
// A,B,B,A,... on the first input; medians and the ratio COMP/ORIG.
// Original outputs can be cached (--cache) so the original runs once per
// input across many compressed models.

const fs = require('fs');
const path = require('path');
const C = require('../../tools/ort/ort_common');

function parseArgs(argv) {
  const o = { models: [], runs: 5, warmup: 1, threads: 0, cache: '', only: 0, time: true, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(a + ' needs a value'); return argv[++i]; };
    switch (a) {
      case '--task': o.task = val(); break;
      case '--manifest': o.manifest = val(); break;
      case '--runs': o.runs = Number(val()); break;
      case '--warmup': o.warmup = Number(val()); break;
      case '--threads': o.threads = Number(val()); break;
      case '--cache': o.cache = val(); break;
      case '--only': o.only = Number(val()); break;
      case '--no-time': o.time = false; break;
      case '--json': o.json = true; break;
      default:
        if (a.startsWith('-')) throw new Error('unknown option ' + a);
        o.models.push(a);
    }
  }
  if (o.models.length !== 2 || !o.task || !o.manifest)
    throw new Error('usage: eval.js ORIG COMP --task isnet|det|cls|rec --manifest FILE [--runs N] [--threads N] [--cache DIR] [--only N] [--no-time] [--json]');
  return o;
}

function readF32(file, dims) {
  const buf = fs.readFileSync(file);
  const n = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== 4 * n) throw new Error(`${file}: ${buf.length} bytes, dims need ${4 * n}`);
  const a = new Float32Array(n);
  new Uint8Array(a.buffer).set(buf);
  return a;
}

function outputNumbers(t) {
  if (t.type === 'float32') return t.data;
  return Float32Array.from(C.toNumbers(t.type, t.data));
}

function iou(a, b, thr) {
  let inter = 0, uni = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] > thr, y = b[i] > thr;
    if (x && y) inter++;
    if (x || y) uni++;
  }
  return uni ? inter / uni : 1;
}

// Text boxes as PaddleOCR's DB post-processing finds them, simplified:
// the 8-connected regions of the map above thr, each kept when its mean
// probability is at least boxThr (DB's box_thresh 0.6) and its bounding
// box at least minSide pixels on its short side (DB's min_size 3); a box
// is the region's axis-aligned bounding box (DB's rotated rectangle,
// unclipped by 1.5, differs little on horizontal text, and the unclip
// grows both detections alike).
function dbBoxes(map, h, w, thr = 0.3, boxThr = 0.6, minSide = 3) {
  const seen = new Uint8Array(h * w), boxes = [], stack = [];
  for (let p0 = 0; p0 < h * w; p0++) {
    if (seen[p0] || !(map[p0] > thr)) continue;
    let y0 = h, y1 = -1, x0 = w, x1 = -1, sum = 0, n = 0;
    seen[p0] = 1;
    stack.push(p0);
    while (stack.length) {
      const p = stack.pop(), y = (p / w) | 0, x = p - y * w;
      y0 = Math.min(y0, y); y1 = Math.max(y1, y); x0 = Math.min(x0, x); x1 = Math.max(x1, x);
      sum += map[p]; n++;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy, xx = x + dx;
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
          const q = yy * w + xx;
          if (!seen[q] && map[q] > thr) { seen[q] = 1; stack.push(q); }
        }
    }
    if (sum / n >= boxThr && Math.min(y1 - y0 + 1, x1 - x0 + 1) >= minSide)
      boxes.push([x0, y0, x1 + 1, y1 + 1]);
  }
  return boxes;
}

function boxIou(a, b) {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const i = iw * ih, area = (r) => (r[2] - r[0]) * (r[3] - r[1]);
  return i / (area(a) + area(b) - i);
}

// The compressed model's boxes against the original's as an ICDAR-style
// match: pairs at box IoU >= 0.5, greedily by IoU, each box used once; F1
// over both lists (1 when neither has a box).
function boxMatch(ba, bb) {
  const pairs = [];
  for (let i = 0; i < ba.length; i++)
    for (let j = 0; j < bb.length; j++) {
      const v = boxIou(ba[i], bb[j]);
      if (v >= 0.5) pairs.push([v, i, j]);
    }
  pairs.sort((x, y) => y[0] - x[0]);
  const ua = new Uint8Array(ba.length), ub = new Uint8Array(bb.length);
  let m = 0, s = 0;
  for (const [v, i, j] of pairs)
    if (!ua[i] && !ub[j]) { ua[i] = ub[j] = 1; m++; s += v; }
  const n = ba.length + bb.length;
  return { f1: n ? 2 * m / n : 1, matched: m, boxes_orig: ba.length, boxes_comp: bb.length,
           box_iou: m ? s / m : null };
}

function meanAbs(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

function argmaxRows(p, cols) {
  const r = [];
  for (let i = 0; i < p.length / cols; i++) {
    let best = 0;
    for (let j = 1; j < cols; j++) if (p[i * cols + j] > p[i * cols + best]) best = j;
    r.push(best);
  }
  return r;
}

// Class ids of a [T, classes] slice, CTC-decoded greedily.
function ctcGreedy(p, off, steps, classes) {
  const ids = [];
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    const row = off + t * classes;
    for (let j = 1; j < classes; j++) if (p[row + j] > p[row + best]) best = j;
    if (best !== prev && best !== 0) ids.push(best);
    prev = best;
  }
  return ids;
}

function editDistance(a, b) {
  let d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const e = [i];
    for (let j = 1; j <= b.length; j++)
      e.push(Math.min(d[j] + 1, e[j - 1] + 1, d[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    d = e;
  }
  return d[b.length];
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const man = JSON.parse(fs.readFileSync(o.manifest, 'utf8'));
  const ort = C.loadOrt();
  const sopts = { threads: o.threads || 0, opt: 'all' };
  const [fa, fb] = o.models;
  const sa = await C.createSession(ort, fa, sopts);
  const sb = await C.createSession(ort, fb, sopts);
  let inputs = man.inputs;
  if (o.only > 0) inputs = inputs.slice(0, o.only);
  const feedsOf = (e) => ({ [man.input]: new ort.Tensor('float32', readF32(e.file, e.dims), e.dims) });
  const key = path.basename(fa).replace(/[^A-Za-z0-9_.-]/g, '_');
  const rows = [];
  let firstFeeds = null;
  for (const e of inputs) {
    const feeds = feedsOf(e);
    if (!firstFeeds) firstFeeds = feeds;
    let ya = null;
    const cfile = o.cache ? path.join(o.cache, `${key}.${e.name}.out.f32`) : '';
    if (cfile && fs.existsSync(cfile)) {
      const buf = fs.readFileSync(cfile);
      ya = new Float32Array(buf.length / 4);
      new Uint8Array(ya.buffer).set(buf);
    } else {
      ya = Float32Array.from(outputNumbers((await sa.run(feeds, [man.output]))[man.output]));
      if (cfile) { fs.mkdirSync(o.cache, { recursive: true }); fs.writeFileSync(cfile, Buffer.from(ya.buffer)); }
    }
    const yb = outputNumbers((await sb.run(feeds, [man.output]))[man.output]);
    if (ya.length !== yb.length) throw new Error(`${e.name}: output sizes differ (${ya.length} vs ${yb.length})`);
    const r = { input: e.name, mean_abs_diff: meanAbs(ya, yb) };
    if (o.task === 'isnet') r.iou = iou(ya, yb, 0.5);
    else if (o.task === 'det') {
      r.iou = iou(ya, yb, 0.3);
      const h = e.dims[2], w = e.dims[3];
      if (ya.length !== h * w) throw new Error(`${e.name}: the map is not ${h} x ${w}`);
      const bm = boxMatch(dbBoxes(ya, h, w), dbBoxes(yb, h, w));
      r.box_f1 = bm.f1;
      r.boxes = bm;
    }
    else if (o.task === 'cls') {
      const pa = argmaxRows(ya, 2), pb = argmaxRows(yb, 2);
      const lab = e.labels || [];
      r.n = pa.length;
      r.agreement = pa.filter((v, i) => v === pb[i]).length / pa.length;
      if (lab.length === pa.length) {
        r.acc_orig = pa.filter((v, i) => v === lab[i]).length / pa.length;
        r.acc_comp = pb.filter((v, i) => v === lab[i]).length / pa.length;
      }
    } else if (o.task === 'rec') {
      const n = e.dims[0], classes = 6625, steps = ya.length / (n * classes);
      let errs = 0, chars = 0;
      for (let i = 0; i < n; i++) {
        const da = ctcGreedy(ya, i * steps * classes, steps, classes);
        const db = ctcGreedy(yb, i * steps * classes, steps, classes);
        errs += Math.min(editDistance(da, db), da.length);
        chars += da.length;
      }
      r.n = n;
      r.char_acc = chars ? 1 - errs / chars : 1;
    } else throw new Error('unknown task ' + o.task);
    rows.push(r);
    if (!o.json) console.error(JSON.stringify(r));
  }
  const rep = { orig: fa, comp: fb, task: o.task, per_input: rows };
  const m = (k) => rows.reduce((s, r) => s + r[k], 0) / rows.length;
  if (o.task === 'cls') rep.agreement = m('agreement');
  else if (o.task === 'rec') rep.char_acc = m('char_acc');
  else { rep.iou_mean = m('iou'); rep.iou_min = Math.min(...rows.map((r) => r.iou)); }
  if (o.task === 'det') { rep.box_f1_mean = m('box_f1'); rep.box_f1_min = Math.min(...rows.map((r) => r.box_f1)); }
  rep.mean_abs_diff = m('mean_abs_diff');
  if (o.time) {
    const sessions = [sa, sb], t = [[], []];
    const once = async (k) => { const t0 = process.hrtime.bigint(); await sessions[k].run(firstFeeds); return Number(process.hrtime.bigint() - t0) / 1e6; };
    for (let i = 0; i < o.warmup; i++) { await once(0); await once(1); }
    for (let i = 0; i < o.runs; i++) for (const k of (i % 2 ? [1, 0] : [0, 1])) t[k].push(await once(k));
    rep.latency = { orig_median_ms: median(t[0]), comp_median_ms: median(t[1]),
                    ratio_comp_over_orig: median(t[1]) / median(t[0]), runs: o.runs,
                    threads: o.threads || 'default', input: inputs[0].name };
  }
  console.log(JSON.stringify(rep, null, o.json ? 1 : 0));
}

main().catch((e) => { console.error('eval.js: ' + (e && e.message || e)); process.exitCode = 2; });
