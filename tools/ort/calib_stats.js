#!/usr/bin/env node
'use strict';
// Activation statistics for `onnxtd compress --act-stats`: runs the
// calibration model that `onnxtd stats-model` writes on calibration inputs
// in onnxruntime and writes, per calibrated tensor X, the channel second
// moment E[x x^T] and the number of positions it is the mean over.
//
//   onnxtd stats-model MODEL.onnx -o CAL.onnx
//   node tools/ort/calib_stats.js CAL.onnx STATS.onnx --manifest FILE.json
//   onnxtd compress MODEL.onnx -o OUT.onnx --target-params 0.5 --act-stats STATS.onnx
//
// Exit status: 0 written, 2 usage/load error (nothing written).

const fs = require('fs');
const path = require('path');
const C = require('./ort_common');
const { UsageError } = C;

const USAGE = `usage: node calib_stats.js CAL.onnx STATS.onnx INPUTS [options]

CAL.onnx is the output of 'onnxtd stats-model'. For each of its outputs
"gram/X" (sum of x x^T over the positions of one run), "sum/X" (sum of x)
and "rows/X" (their count), the sums over every calibration input are
divided and written to STATS.onnx as "moment/X" (DOUBLE C x C, E[x x^T]),
"mean/X" (DOUBLE C, E[x]; only when CAL.onnx has the sums) and "count/X"
(INT64 [1]), the file 'onnxtd compress --act-stats' reads. An output
"taps/X" (the autocorrelation of a Conv's input along each spatial axis,
[axes, lags], one run's mean) is averaged over the runs and written as
"taps/X" (DOUBLE); dropped for X when a run gives NaN (a map narrower
than the kernel), as 'compress --calib' does.

INPUTS (at least one):
  --manifest FILE   a JSON manifest {"input": NAME, "inputs": [{"file":
                    F.f32, "dims": [...]}, ...]} of raw little-endian
                    float32 tensors (bench/fidelity/prep.py's format)
  --pb FILE         a TensorProto file (input_0.pb style); repeatable, each
                    one run of a one-input model
  --inputs DIR      one run on DIR/input_0.pb, input_1.pb ... (by name, else
                    by position, as ort_compare.js); repeatable
  --npy FILE        a NumPy .npy array (float32/float16/float64, C order);
                    repeatable, each one run of a one-input model
  --random N        N runs on deterministic random inputs (for tests)
options:
  --seed S          seed of --random (default 0)
  --dim NAME=V      value for a symbolic input dim with --random
  --threads N       intra-op threads (default: onnxruntime's)
  --quiet           no progress on stderr
  -h, --help        this text`;

function parseArgs(argv) {
  const o = { files: [], manifests: [], pbs: [], dirs: [], npys: [], random: 0, seed: 0, dims: {}, threads: 0,
              quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '-h': case '--help': console.log(USAGE); process.exit(0); break;
      case '--manifest': o.manifests.push(val()); break;
      case '--pb': o.pbs.push(val()); break;
      case '--inputs': o.dirs.push(val()); break;
      case '--npy': o.npys.push(val()); break;
      case '--random': o.random = Number(val()); break;
      case '--seed': o.seed = Number(val()); break;
      case '--dim': { const [k, v] = C.parseDim(val()); o.dims[k] = v; break; }
      case '--threads': o.threads = Number(val()); break;
      case '--quiet': o.quiet = true; break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        o.files.push(a);
    }
  }
  if (o.files.length !== 2) throw new UsageError(USAGE);
  if (!Number.isInteger(o.random) || o.random < 0) throw new UsageError('--random needs a count');
  if (!o.manifests.length && !o.pbs.length && !o.dirs.length && !o.npys.length && !o.random)
    throw new UsageError('no calibration inputs: give --manifest, --pb, --inputs, --npy or --random');
  return o;
}

function readF32(file, dims) {
  const buf = fs.readFileSync(file);
  const n = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== 4 * n) throw new UsageError(`${file}: ${buf.length} bytes, dims ${JSON.stringify(dims)} need ${4 * n}`);
  const a = new Float32Array(n);
  new Uint8Array(a.buffer).set(buf);
  return a;
}

// A .npy file (format 1.0-3.0): little-endian float16/32/64, C order.
function readNpy(file) {
  let buf;
  try { buf = fs.readFileSync(file); } catch (e) {
    throw new UsageError(`cannot read ${file}: ${e.code || e.message}`);
  }
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY')
    throw new UsageError(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new UsageError(`${file}: unreadable .npy header`);
  if (fortran[1] === 'True') throw new UsageError(`${file}: Fortran-ordered arrays are not supported`);
  const dims = shape[1].split(',').map((x) => x.trim()).filter((x) => x).map(Number);
  const types = { '<f4': ['float32', Float32Array], '<f2': ['float16', Uint16Array],
                  '<f8': ['float64', Float64Array] };
  const t = types[descr[1]];
  if (!t) throw new UsageError(`${file}: dtype ${descr[1]} is not little-endian float16/32/64`);
  const n = dims.reduce((a, b) => a * b, 1), off = hstart + hlen;
  if (buf.length - off !== n * t[1].BYTES_PER_ELEMENT)
    throw new UsageError(`${file}: ${buf.length - off} data bytes, shape ${JSON.stringify(dims)} needs ${n * t[1].BYTES_PER_ELEMENT}`);
  const data = new t[1](n);
  new Uint8Array(data.buffer).set(buf.subarray(off));
  return { type: t[0], dims, data };
}

// float32 values as the model's input type (FLOAT16 models take halves).
function asType(type, f32) {
  if (type === 'float32' || !type) return f32;
  if (type === 'float16') return Uint16Array.from(f32, C.floatToHalf);
  if (type === 'float64') return Float64Array.from(f32);
  throw new UsageError(`input type ${type} cannot be fed from float32 data`);
}

// Each calibration run as {name: {type, dims, data}}, lazily.
function* runs(o, meta, names) {
  const typeOf = (n) => (meta ? (meta.find((m) => m.name === n) || {}).type : 'float32');
  for (const mf of o.manifests) {
    const man = JSON.parse(fs.readFileSync(mf, 'utf8'));
    if (!man.input || !Array.isArray(man.inputs)) throw new UsageError(`${mf}: not a manifest (needs "input" and "inputs")`);
    if (!names.includes(man.input)) throw new UsageError(`${mf}: the model has no input '${man.input}' (it has ${names.join(', ')})`);
    for (const e of man.inputs) {
      const file = path.isAbsolute(e.file) ? e.file : path.join(path.dirname(mf), e.file);
      const t = typeOf(man.input);
      yield [e.name || file, { [man.input]: { type: t || 'float32', dims: e.dims, data: asType(t, readF32(file, e.dims)) } }];
    }
  }
  for (const f of o.pbs) {
    if (names.length !== 1) throw new UsageError(`--pb feeds one-input models; this one has ${names.length}`);
    const t = C.readTensorFile(f);
    yield [f, { [names[0]]: t }];
  }
  for (const d of o.dirs) {
    const files = C.listNumbered(d, 'input');
    if (!files.length) throw new UsageError(`${d}: no input_0.pb ...`);
    const ins = {};
    for (const f of files) { const t = C.readTensorFile(f); ins[t.name || f] = t; }
    yield [d, C.mapInputsTo(ins, names, d)];
  }
  for (const f of o.npys) {
    if (names.length !== 1) throw new UsageError(`--npy feeds one-input models; this one has ${names.length}`);
    const a = readNpy(f), want = typeOf(names[0]);
    if (want && want !== a.type) {  // another float width than the model's input
      const f32 = a.type === 'float16' ? Float32Array.from(a.data, C.halfToFloat) : Float32Array.from(a.data);
      a.data = asType(want, f32);
      a.type = want;
    }
    yield [f, { [names[0]]: a }];
  }
  for (let r = 0; r < o.random; r++) {
    if (!meta) throw new UsageError('this onnxruntime-node has no inputMetadata; use --manifest or --pb');
    yield [`random ${r}`, C.makeRandomInputs(meta, o.seed + r, o.dims)];
  }
}

// ------------------------------------------------------- protobuf writing
// Just what a ModelProto with initializers needs (field numbers from
// onnx.proto): varints, length-delimited fields.
function varint(n) {
  const b = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    b.push(byte);
  } while (v);
  return Buffer.from(b);
}
const key = (field, wire) => varint((field << 3) | wire);
const fieldVarint = (field, n) => Buffer.concat([key(field, 0), varint(n)]);
const fieldBytes = (field, buf) => Buffer.concat([key(field, 2), varint(buf.length), buf]);
const fieldString = (field, s) => fieldBytes(field, Buffer.from(s, 'utf8'));

const DOUBLE = 11, INT64 = 7;
function tensorProto(name, dtype, dims, raw) {
  return Buffer.concat([...dims.map((d) => fieldVarint(1, d)), fieldVarint(2, dtype),
                        fieldString(8, name), fieldBytes(9, raw)]);
}

function statsModel(entries) {
  const inits = [];
  for (const [x, e] of entries) {
    const c = e.c, m = new Float64Array(c * c);
    for (let q = 0; q < c * c; q++) m[q] = e.sum[q] / e.count;
    inits.push(fieldBytes(5, tensorProto('moment/' + x, DOUBLE, [c, c], Buffer.from(m.buffer))));
    if (e.vsum) {
      const mu = new Float64Array(c);
      for (let q = 0; q < c; q++) mu[q] = e.vsum[q] / e.count;
      inits.push(fieldBytes(5, tensorProto('mean/' + x, DOUBLE, [c], Buffer.from(mu.buffer))));
    }
    const cnt = Buffer.alloc(8);
    cnt.writeBigInt64LE(BigInt(e.count));
    inits.push(fieldBytes(5, tensorProto('count/' + x, INT64, [1], cnt)));
    if (e.taps && e.tapRuns) {
      const t = new Float64Array(e.taps.length);
      for (let q = 0; q < t.length; q++) t[q] = e.taps[q] / e.tapRuns;
      inits.push(fieldBytes(5, tensorProto('taps/' + x, DOUBLE, e.tapDims, Buffer.from(t.buffer))));
    }
  }
  const graph = Buffer.concat([fieldString(2, 'activation_statistics'), ...inits]);
  const opset = Buffer.concat([fieldString(1, ''), fieldVarint(2, 13)]);
  return Buffer.concat([fieldVarint(1, 8), fieldString(2, 'onnxtd calib_stats.js'),
                        fieldBytes(8, opset), fieldBytes(7, graph)]);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const [calFile, outFile] = o.files;
  const ort = C.loadOrt();
  const session = await C.createSession(ort, calFile, { threads: o.threads, opt: 'all' });
  const grams = session.outputNames.filter((n) => n.startsWith('gram/'));
  if (!grams.length)
    throw new UsageError(`${calFile} has no "gram/..." outputs: make it with 'onnxtd stats-model'`);
  for (const g of grams)
    if (!session.outputNames.includes('rows/' + g.slice(5)))
      throw new UsageError(`${calFile}: output '${g}' has no 'rows/${g.slice(5)}'`);
  const meta = Array.isArray(session.inputMetadata) ? session.inputMetadata : null;
  const acc = new Map();
  let n = 0;
  for (const [label, inputs] of runs(o, meta, session.inputNames)) {
    const feeds = C.toOrtFeeds(ort, inputs);
    const res = await session.run(feeds);
    for (const g of grams) {
      const x = g.slice(5);
      const gt = res[g], rt = res['rows/' + x];
      const rows = Number(rt.data[0]), c = Number(rt.data[1]);
      if (gt.dims.length !== 2 || gt.dims[0] !== c || gt.dims[1] !== c)
        throw new UsageError(`${calFile}: output '${g}' is ${gt.dims.join('x')}, rows/${x} says ${c} channels`);
      const st = res['sum/' + x];
      if (st && (st.dims.length !== 1 || st.dims[0] !== c))
        throw new UsageError(`${calFile}: output 'sum/${x}' is ${st.dims.join('x')}, rows/${x} says ${c} channels`);
      let e = acc.get(x);
      if (!e) {
        e = { c, sum: new Float64Array(c * c), vsum: st ? new Float64Array(c) : null, count: 0,
              taps: undefined, tapDims: null, tapRuns: 0 };
        acc.set(x, e);
      }
      if (e.c !== c) throw new UsageError(`${label}: '${x}' has ${c} channels, earlier runs ${e.c}`);
      const d = gt.data;
      for (let q = 0; q < c * c; q++) e.sum[q] += d[q];
      if (e.vsum) for (let q = 0; q < c; q++) e.vsum[q] += st.data[q];
      e.count += rows;
      const tt = res['taps/' + x];
      if (tt && e.taps !== null) {
        if (tt.dims.length !== 2 || (e.taps && (tt.dims[0] !== e.tapDims[0] || tt.dims[1] !== e.tapDims[1])))
          throw new UsageError(`${label}: output 'taps/${x}' is ${tt.dims.join('x')}, not the [axes, lags] of the runs before`);
        if (!Array.from(tt.data).every(Number.isFinite)) {
          e.taps = null;  // a lag without positions: X's taps are dropped
        } else {
          if (!e.taps) { e.taps = new Float64Array(tt.data.length); e.tapDims = tt.dims.slice(); e.tapRuns = 0; }
          for (let q = 0; q < tt.data.length; q++) e.taps[q] += tt.data[q];
          e.tapRuns++;
        }
      }
    }
    n++;
    if (!o.quiet) process.stderr.write(`calib_stats: ${n} run(s), last ${label}\n`);
  }
  if (!n) throw new UsageError('the manifests held no inputs');
  for (const [x, e] of acc) {
    for (let q = 0; q < e.sum.length; q++)
      if (!Number.isFinite(e.sum[q]))
        throw new UsageError(`tensor '${x}': the sums overflowed or hold NaN (entry ${q})`);
    for (let q = 0; e.vsum && q < e.c; q++)
      if (!Number.isFinite(e.vsum[q]))
        throw new UsageError(`tensor '${x}': the channel sums overflowed or hold NaN (channel ${q})`);
    if (!e.count) throw new UsageError(`tensor '${x}': no positions`);
  }
  const tmp = outFile + '.tmp' + process.pid;
  fs.writeFileSync(tmp, statsModel(acc));
  fs.renameSync(tmp, outFile);
  if (!o.quiet)
    process.stderr.write(`calib_stats: ${outFile}: ${acc.size} tensors over ${n} run(s)\n`);
}

main().catch((e) => {
  process.stderr.write(`calib_stats: ${e instanceof UsageError ? '' : 'error: '}${e.message || e}\n`);
  process.exit(2);
});
