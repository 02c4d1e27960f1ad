#!/usr/bin/env node
'use strict';
// How sure a model's own probability map is, per input: the share of the
// map that is on (above the threshold) and the share of those on pixels
// whose probability lies in the unsure band. A map the original hesitates
// over is where a small output change moves the threshold across many
// pixels (bench/README.md, "Correlated taps" and "Mask IoU as the bound").
//
//   node bench/fidelity/map_unsure.js MODEL.onnx THRESHOLD LO,HI MANIFEST.json|X.npy ...
//   node bench/fidelity/map_unsure.js isnet_fp16.onnx 0.5 0.2,0.8 bench/out/fidelity/inputs/isnet.json
//
// The first output is the map. One line per input: on, unsure / on.

const C = require('../../tools/ort/ort_common');
const { inputs } = require('./gram_spread.js');

async function main() {
  const [model, thr, band, ...srcs] = process.argv.slice(2);
  if (!model || !thr || !band || !srcs.length)
    throw new Error('usage: map_unsure.js MODEL.onnx THRESHOLD LO,HI MANIFEST.json|X.npy ...');
  const t = Number(thr), [lo, hi] = band.split(',').map(Number);
  const ort = C.loadOrt();
  const s = await C.createSession(ort, model, { threads: 2, opt: 'all' });
  const type = Array.isArray(s.inputMetadata) ? s.inputMetadata[0].type : 'float32';
  const names = srcs.flatMap((a) => a.endsWith('.json')
    ? require(require('path').resolve(a)).inputs.map((e) => e.name) : [a]);
  let k = 0;
  for (const x of inputs(srcs)) {
    const data = type === 'float16' ? Uint16Array.from(x.data, C.floatToHalf) : x.data;
    const res = await s.run({ [s.inputNames[0]]: new ort.Tensor(type, data, x.shape) });
    const out = res[s.outputNames[0]];
    const map = C.toNumbers(out.type, out.data);
    let on = 0, unsure = 0;
    for (const v of map) {
      if (v > t) on++;
      if (v > lo && v < hi) unsure++;
    }
    console.log(`${names[k++]}: on ${(on / map.length).toFixed(3)}, unsure / on ${(unsure / Math.max(on, 1)).toFixed(3)}`);
  }
}

main().catch((e) => { console.error('map_unsure.js: ' + (e && e.message || e)); process.exitCode = 2; });
