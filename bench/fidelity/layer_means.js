#!/usr/bin/env node
'use strict';
// Each layer input's channel mean and second moment, from the statistics
// model run on real inputs or on generated ones: the data bench/fidelity/
// mean_shift.py reads ("Data-free defaults" in bench/README.md).
//
//   onnxtd stats-model MODEL.onnx -o CAL.onnx
//   node bench/fidelity/layer_means.js CAL.onnx OUT.json [--split] SRC ...
//
// SRC: a manifest (calib_prep.py / prep.py), an .npy file, or a generated
// input zero:N,C,H,W (every value 0) or normal:N,C,H,W (N(0, 1), seed 7).
// OUT.json: {X: {c, rows, mu: [c], m: [c * c]}} over every position of
// every input, from the sum/X, gram/X and rows/X outputs.

const fs = require('fs');
const C = require('../../tools/ort/ort_common');
const { inputs } = require('./gram_spread.js');

function generated(spec) {
  const [kind, dims] = spec.split(':');
  const shape = dims.split(',').map(Number);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  if (kind === 'normal') {
    const rng = C.makeRng(7);
    for (let i = 0; i < data.length; i++)
      data[i] = Math.sqrt(-2 * Math.log(rng() + 1e-12)) * Math.cos(2 * Math.PI * rng());
  } else if (kind !== 'zero') {
    throw new Error('unknown generated input ' + spec);
  }
  return { data, shape };
}

async function main() {
  const [cal, out, ...args] = process.argv.slice(2);
  if (!cal || !out || !args.length)
    throw new Error('usage: layer_means.js CAL.onnx OUT.json [--split] SRC ...');
  const ort = C.loadOrt();
  const s = await C.createSession(ort, cal, { threads: 2, opt: 'all' });
  const type = Array.isArray(s.inputMetadata) ? s.inputMetadata[0].type : 'float32';
  const gen = args.filter((a) => /^(zero|normal):/.test(a)).map(generated);
  const acc = {};
  for (const t of [...inputs(args.filter((a) => !/^(zero|normal):/.test(a))), ...gen]) {
    const data = type === 'float16' ? Uint16Array.from(t.data, C.floatToHalf) : t.data;
    const res = await s.run({ [s.inputNames[0]]: new ort.Tensor(type, data, t.shape) });
    for (const name of s.outputNames.filter((n) => n.startsWith('sum/'))) {
      const x = name.slice(4), c = res[name].data.length;
      const e = acc[x] || (acc[x] = { c, rows: 0, s: new Float64Array(c), g: new Float64Array(c * c) });
      e.rows += Number(res['rows/' + x].data[0]);
      res[name].data.forEach((v, i) => { e.s[i] += v; });
      res['gram/' + x].data.forEach((v, i) => { e.g[i] += v; });
    }
  }
  const res = {};
  for (const [x, e] of Object.entries(acc))
    res[x] = { c: e.c, rows: e.rows, mu: Array.from(e.s, (v) => v / e.rows),
               m: Array.from(e.g, (v) => v / e.rows) };
  fs.writeFileSync(out, JSON.stringify(res));
}

main().catch((e) => { console.error('layer_means.js: ' + (e && e.message || e)); process.exitCode = 2; });
