#!/usr/bin/env node
// Writes one tensor of a model, run on every .npy input of a folder (in
// name order), as raw little-endian float32, concatenated:
//
//   node bench/heldout/dump_tap.js MODEL DIR TENSOR OUT
//
// TENSOR must be a graph output of MODEL (head_fisher.py adds it).
'use strict';
const fs = require('fs');
const path = require('path');
const C = require('../../tools/ort/ort_common');
const { readNpyF32 } = require('./task_eval');

async function main() {
  const [model, dir, tensor, out] = process.argv.slice(2);
  if (!out) throw new Error('usage: dump_tap.js MODEL DIR TENSOR OUT');
  const ort = C.loadOrt();
  const s = await C.createSession(ort, model, { threads: 1, opt: 'all' });
  const parts = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.npy')).sort()) {
    const { data, shape } = readNpyF32(path.join(dir, f));
    const y = (await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', data, shape) }))[tensor];
    if (!y) throw new Error(`${model}: no output '${tensor}'`);
    parts.push(Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  }
  fs.writeFileSync(out, Buffer.concat(parts));
}

main().catch((e) => { console.error('dump_tap.js: ' + (e && e.message || e)); process.exitCode = 2; });
