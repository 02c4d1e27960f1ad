#!/usr/bin/env node
'use strict';
// The inputs of chosen layers of a model, dumped for bench/taps/layers.py:
// for each .npy input (float32, one-input model), one run of MODEL (a copy
// whose graph outputs include those tensors, as layers.py writes it) in
// onnxruntime-node, each output whose name starts with '/' written raw
// (as ORT returns it: float16 stays float16) to OUT/TAG_NAME.bin, with
// OUT/TAG.json mapping each file to its dims.
//
//   node bench/taps/activations.js MODEL.onnx OUT IN.npy...
const fs = require('fs');
const path = require('path');
const C = require('../../tools/ort/ort_common');

function readNpy(file) {
  const b = fs.readFileSync(file);
  const hl = b.readUInt16LE(8);
  const header = b.slice(10, 10 + hl).toString();
  if (!header.includes("'<f4'")) throw new Error(file + ': not float32');
  const dims = header.match(/'shape': \(([^)]*)\)/)[1].split(',')
    .filter((s) => s.trim()).map(Number);
  const d = b.slice(10 + hl);
  return { dims, data: new Float32Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.length)) };
}

async function main() {
  const [model, out, ...inputs] = process.argv.slice(2);
  if (!model || !out || !inputs.length) {
    process.stderr.write('usage: node activations.js MODEL.onnx OUT IN.npy...\n');
    process.exit(2);
  }
  const ort = C.loadOrt();
  const s = await ort.InferenceSession.create(model);
  for (const f of inputs) {
    const x = readNpy(f);
    const res = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims) });
    const tag = path.basename(f, '.npy');
    const meta = {};
    for (const k of s.outputNames) {
      if (!k.startsWith('/')) continue;
      const t = res[k];
      const fn = path.join(out, tag + '_' + k.replace(/\//g, '_') + '.bin');
      fs.writeFileSync(fn, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      meta[path.basename(fn)] = { dims: t.dims, type: t.type };
    }
    fs.writeFileSync(path.join(out, tag + '.json'), JSON.stringify(meta));
    process.stderr.write(tag + '\n');
  }
}
main().catch((e) => { process.stderr.write(String(e.stack || e) + '\n'); process.exit(1); });
