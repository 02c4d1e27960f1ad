#!/usr/bin/env node
'use strict';
// One onnxruntime-node session on one .npy input, run once: the memory
// ONNX Runtime needs to run the model alone (bench/calib_stats.sh).
//   node bench/calib_plain_run.js MODEL.onnx INPUT.npy [THREADS]
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', 'tools', 'ort', 'ort_common')).loadOrt();

function npy(file) {  // float32, C order, format 1.0
  const b = fs.readFileSync(file);
  const hl = b.readUInt16LE(8), h = b.toString('latin1', 10, 10 + hl);
  if (!/'descr': '<f4'/.test(h) || /'fortran_order': True/.test(h))
    throw new Error(`${file}: not a C-order float32 .npy`);
  const dims = /'shape': \(([^)]*)\)/.exec(h)[1].split(',').filter((x) => x.trim()).map(Number);
  const raw = b.subarray(10 + hl), a = new Float32Array(raw.length / 4);
  new Uint8Array(a.buffer).set(raw);
  return new ort.Tensor('float32', a, dims);
}

(async () => {
  const [model, input, threads] = process.argv.slice(2);
  const opts = { graphOptimizationLevel: 'all' };
  if (threads) opts.intraOpNumThreads = Number(threads);
  const s = await ort.InferenceSession.create(model, opts);
  await s.run({ [s.inputNames[0]]: npy(input) });
})().catch((e) => { console.error(e.message || e); process.exit(1); });
