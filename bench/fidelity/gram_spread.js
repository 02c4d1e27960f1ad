#!/usr/bin/env node
'use strict';
// How much the calibration inputs disagree about each layer's input
// statistics: the Ledoit-Wolf shrinkage intensity of the channel second
// moment, taking each input's own moment M_i as one sample.
//
//   onnxtd stats-model MODEL.onnx -o CAL.onnx
//   node bench/fidelity/gram_spread.js CAL.onnx [--split] MANIFEST.json|X.npy ...
//
// Per gram/X output of CAL.onnx: M = mean_i M_i, mu = tr(M) / C,
// d2 = ||M - mu I||^2, b2 = min(sum_i ||M_i - M||^2 / N^2, d2) and the
// intensity delta = b2 / d2: the weight of mu I in the Frobenius-optimal
// mix (1 - delta) M + delta mu I. In --act-lambda's terms (S = M + F mu
// I) that is F = delta / (1 - delta). Prints the 10 / 50 / 90 % quantiles
// of delta and F over the layers, then one JSON line per layer.
// --split: a manifest entry with a batch axis > 1 is that many inputs.

const fs = require('fs');
const C = require('../../tools/ort/ort_common');
const { readNpyF32 } = require('../heldout/task_eval.js');

function inputs(args) {
  const out = [];
  let split = false;
  for (const a of args) {
    if (a === '--split') { split = true; continue; }
    const list = [];
    if (a.endsWith('.json')) {
      for (const e of JSON.parse(fs.readFileSync(a, 'utf8')).inputs) {
        const buf = fs.readFileSync(e.file);
        const data = new Float32Array(buf.length / 4);
        new Uint8Array(data.buffer).set(buf);
        list.push({ data, shape: e.dims });
      }
    } else {
      list.push(readNpyF32(a));
    }
    for (const t of list) {
      const n = t.shape[0];
      if (!split || n < 2) { out.push(t); continue; }
      const per = t.data.length / n;
      for (let b = 0; b < n; b++)
        out.push({ data: t.data.slice(b * per, (b + 1) * per), shape: [1, ...t.shape.slice(1)] });
    }
  }
  return out;
}

const quantile = (a, p) => a.slice().sort((x, y) => x - y)[Math.floor(p * (a.length - 1))];

async function main() {
  const [cal, ...args] = process.argv.slice(2);
  if (!cal || !args.length) throw new Error('usage: gram_spread.js CAL.onnx [--split] MANIFEST.json|X.npy ...');
  const ort = C.loadOrt();
  const s = await C.createSession(ort, cal, { threads: 2, opt: 'all' });
  const type = Array.isArray(s.inputMetadata) ? s.inputMetadata[0].type : 'float32';
  const grams = s.outputNames.filter((n) => n.startsWith('gram/'));
  const acc = new Map();
  for (const t of inputs(args)) {
    const data = type === 'float16' ? Uint16Array.from(t.data, C.floatToHalf) : t.data;
    const res = await s.run({ [s.inputNames[0]]: new ort.Tensor(type, data, t.shape) });
    for (const g of grams) {
      const x = g.slice(5), rc = res['rows/' + x].data;
      const rows = Number(rc[0]), c = Number(rc[1]);
      if (!rows) continue;
      let e = acc.get(x);
      if (!e) acc.set(x, (e = { c, sum: new Float64Array(c * c), sq: 0, n: 0 }));
      const d = res[g].data;
      let sq = 0;
      for (let q = 0; q < c * c; q++) { const v = d[q] / rows; e.sum[q] += v; sq += v * v; }
      e.sq += sq;
      e.n++;
    }
  }
  const rows = [];
  for (const [x, e] of acc) {
    const { c, n } = e;
    let m2 = 0, tr = 0;
    for (let q = 0; q < c * c; q++) m2 += (e.sum[q] / n) ** 2;
    for (let i = 0; i < c; i++) tr += e.sum[i * c + i] / n;
    const mu = tr / c, d2 = m2 - 2 * mu * tr + mu * mu * c;
    const b2 = Math.min(Math.max(0, e.sq - n * m2) / (n * n), d2);
    const delta = d2 > 0 ? b2 / d2 : 1;
    rows.push({ x, c, inputs: n, delta, F: delta < 1 ? delta / (1 - delta) : null });
  }
  const q = (k) => [0.1, 0.5, 0.9].map((p) => quantile(rows.map((r) => r[k] ?? Infinity), p).toFixed(3)).join(' / ');
  console.log(`${rows.length} layers, ${rows.length ? rows[0].inputs : 0} inputs: delta ${q('delta')}, F ${q('F')} (10 / 50 / 90 %)`);
  for (const r of rows) console.log(JSON.stringify(r));
}

module.exports = { inputs };

if (require.main === module)
  main().catch((e) => { console.error('gram_spread.js: ' + (e && e.message || e)); process.exitCode = 2; });
