#!/usr/bin/env node
'use strict';
// Output fidelity of a compressed segmentation model against its original
// on smooth synthetic images (sums of low-frequency waves, closer to the
// statistics of photographs than white noise): relative L2 error of the
// first output and the share of pixels on the same side of the original's mean.
//
//   node bench/mask_agree.js ORIG.onnx NEW.onnx [--images N] [--dim NAME=V]
const path = require('path');
const C = require(path.join(__dirname, '../tools/ort/ort_common'));

function smoothImage(dims, rng) {
  const [n, c, h, w] = dims;
  const a = new Float32Array(n * c * h * w);
  const waves = [];
  for (let k = 0; k < 6; k++)
    waves.push([rng() * 6, rng() * 6, rng() * 6.28, 0.3 + rng()]);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let v = 0;
        for (const [fy, fx, ph, amp] of waves)
          v += amp * Math.sin((fy * y) / h * 6.28 + (fx * x) / w * 6.28 + ph + ch);
        a[(ch * h + y) * w + x] = v / 3;
      }
  return a;
}

async function main() {
  const args = process.argv.slice(2);
  const files = [], dims = {};
  let images = 2;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--images') images = Number(args[++i]);
    else if (args[i] === '--dim') { const [k, v] = C.parseDim(args[++i]); dims[k] = v; }
    else files.push(args[i]);
  }
  const ort = C.loadOrt();
  const sa = await C.createSession(ort, files[0], {});
  const sb = await C.createSession(ort, files[1], {});
  const meta = sa.inputMetadata[0];
  const shape = C.resolveShape(meta.shape, dims, meta.name);
  const rng = C.makeRng(1);
  let e2 = 0, n2 = 0, agree = 0, count = 0;
  for (let im = 0; im < images; im++) {
    const f = smoothImage(shape, rng);
    const data = meta.type === 'float16' ? Uint16Array.from(f, C.floatToHalf) : f;
    const t = new ort.Tensor(meta.type, data, shape);
    const ra = await sa.run({ [sa.inputNames[0]]: t });
    const rb = await sb.run({ [sb.inputNames[0]]: t });
    const oa = ra[sa.outputNames[0]], ob = rb[sb.outputNames[0]];
    const x = C.toNumbers(oa.type, oa.data), y = C.toNumbers(ob.type, ob.data);
    // Synthetic images rarely push the saliency past 0.5: threshold at
    // the original's mean so that the mask splits the image.
    let mean = 0;
    for (let i = 0; i < x.length; i++) mean += x[i];
    mean /= x.length;
    for (let i = 0; i < x.length; i++) {
      e2 += (x[i] - y[i]) ** 2;
      n2 += x[i] ** 2;
      agree += (x[i] > mean) === (y[i] > mean);
    }
    count += x.length;
  }
  console.log(JSON.stringify({ rel_l2: Math.sqrt(e2 / n2), mask_agreement: agree / count }));
}
main().catch((e) => { console.error(String(e.message || e)); process.exit(2); });
