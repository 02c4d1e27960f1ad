'use strict';
// Shared helpers for ort_compare.js and ort_time.js:
//   - loading onnxruntime-node with a helpful error
//   - a small protobuf decoder for onnx.TensorProto files (input_0.pb ...)
//   - deterministic random inputs from a model's input metadata
//   - session creation with one set of options for every model

const fs = require('fs');
const path = require('path');

class UsageError extends Error {}

// ONNX Runtime's telemetry off unless the user set its switch (as onnxtd
// does in src/runtime/td_rt_load.c): from 1.29 on, its Linux builds
// otherwise write a device id under ~/.cache/Microsoft, files in $TMPDIR
// and upload usage events. Read once when the native library loads.
function telemetryOff() {
  const names = ['ORT_DISABLE_TELEMETRY', 'ORT_TELEMETRY_DISABLED'];
  if (names.some((n) => process.env[n] !== undefined)) return;
  for (const n of names) process.env[n] = '1';
}

function loadOrt() {
  telemetryOff();
  try {
    return require('onnxruntime-node');
  } catch (e) {
    const err = new UsageError(
      'cannot load onnxruntime-node from ' + path.join(__dirname, 'node_modules') +
      ' (run: bash scripts/setup.sh): ' + e.message);
    throw err;
  }
}

// ------------------------------------------------------------------ dtypes
// ONNX TensorProto.DataType -> onnxruntime-node type name
const ONNX_TO_ORT = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32',
  7: 'int64', 8: 'string', 9: 'bool', 10: 'float16', 11: 'float64',
  12: 'uint32', 13: 'uint64',
};

const ORT_ARRAY = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array,
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array,
  uint64: BigUint64Array, bool: Uint8Array,
};

const FLOAT_TYPES = new Set(['float32', 'float64', 'float16']);

function halfToFloat(h) {
  const s = (h & 0x8000) ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * Math.pow(2, -24);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * Math.pow(2, e - 15);
}

// IEEE half bits for a float in [-1,1] (round to nearest even).
const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
function floatToHalf(v) {
  f32buf[0] = v;
  const x = u32buf[0];
  const sign = (x >>> 16) & 0x8000;
  let exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

// Tensor data as plain JS numbers (for error metrics).
function toNumbers(type, data) {
  const n = data.length;
  const out = new Float64Array(n);
  if (type === 'float16') {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(data[i]);
  } else if (type === 'int64' || type === 'uint64') {
    for (let i = 0; i < n; i++) out[i] = Number(data[i]);
  } else if (type === 'bool') {
    for (let i = 0; i < n; i++) out[i] = data[i] ? 1 : 0;
  } else {
    for (let i = 0; i < n; i++) out[i] = data[i];
  }
  return out;
}

// ------------------------------------------------------- protobuf decoding
class Reader {
  constructor(buf, file) { this.buf = buf; this.pos = 0; this.file = file; }
  eof() { return this.pos >= this.buf.length; }
  fail(msg) { throw new UsageError(`${this.file}: bad TensorProto: ${msg}`); }
  // varint as BigInt (unsigned 64-bit)
  varintBig() {
    let result = 0n, shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) this.fail('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      shift += 7n;
      if (shift > 63n) this.fail('varint too long');
    }
    return BigInt.asUintN(64, result);
  }
  // varint as Number; only for lengths/tags/small values
  varint() {
    let result = 0, mul = 1;
    for (;;) {
      if (this.pos >= this.buf.length) this.fail('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (!(b & 0x80)) break;
      mul *= 128;
      if (mul > 2 ** 63) this.fail('varint too long');
    }
    return result;
  }
  bytes() {
    const len = this.varint();
    if (this.pos + len > this.buf.length) this.fail('truncated length-delimited field');
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }
  skip(wire) {
    switch (wire) {
      case 0: this.varintBig(); break;
      case 1: this.pos += 8; break;
      case 2: this.bytes(); break;
      case 5: this.pos += 4; break;
      default: this.fail('unsupported wire type ' + wire);
    }
    if (this.pos > this.buf.length) this.fail('truncated field');
  }
}

// Repeated integer field: packed (wire 2) or one value (wire 0). Pushes BigInt.
function readRepeatedVarint(r, wire, arr) {
  if (wire === 0) { arr.push(r.varintBig()); return; }
  if (wire !== 2) r.fail('unexpected wire type for integer field');
  const b = r.bytes();
  const sub = new Reader(b, r.file);
  while (!sub.eof()) arr.push(sub.varintBig());
}

function readRepeatedFixed(r, wire, arr, size, fixedWire) {
  const dv = (b) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (wire === fixedWire) {
    const b = r.buf.subarray(r.pos, r.pos + size);
    if (b.length < size) r.fail('truncated fixed field');
    r.pos += size;
    arr.push(size === 4 ? dv(b).getFloat32(0, true) : dv(b).getFloat64(0, true));
    return;
  }
  if (wire !== 2) r.fail('unexpected wire type for float field');
  const b = r.bytes();
  if (b.length % size) r.fail('packed float field length not a multiple of ' + size);
  const v = dv(b);
  for (let o = 0; o < b.length; o += size)
    arr.push(size === 4 ? v.getFloat32(o, true) : v.getFloat64(o, true));
}

// Decode an onnx.TensorProto. Returns {name, dims, dataType, type, data}
// where data is the typed array that onnxruntime-node expects for `type`.
function decodeTensorProto(buf, file) {
  const r = new Reader(buf, file || '<buffer>');
  const dims = [];
  let dataType = 0, name = '', raw = null, dataLocation = 0;
  const f32 = [], f64 = [], i32 = [], i64 = [], u64 = [];
  while (!r.eof()) {
    const tag = r.varint();
    const field = Math.floor(tag / 8), wire = tag & 7;
    switch (field) {
      case 1: { const d = []; readRepeatedVarint(r, wire, d);
                for (const x of d) dims.push(Number(BigInt.asIntN(64, x))); break; }
      case 2: dataType = Number(r.varintBig()); break;
      case 4: readRepeatedFixed(r, wire, f32, 4, 5); break;
      case 5: readRepeatedVarint(r, wire, i32); break;
      case 7: readRepeatedVarint(r, wire, i64); break;
      case 8: name = Buffer.from(r.bytes()).toString('utf8'); break;
      case 9: raw = r.bytes(); break;
      case 10: readRepeatedFixed(r, wire, f64, 8, 1); break;
      case 11: readRepeatedVarint(r, wire, u64); break;
      case 14: dataLocation = Number(r.varintBig()); break;
      default: r.skip(wire);
    }
  }
  if (dataLocation === 1) r.fail('external data is not supported');
  const type = ONNX_TO_ORT[dataType];
  if (!type || type === 'string') r.fail('unsupported data_type ' + dataType);
  const Arr = ORT_ARRAY[type];
  const count = dims.reduce((a, b) => a * b, 1);
  let data;
  if (raw) {
    const bytes = count * Arr.BYTES_PER_ELEMENT;
    if (raw.length !== bytes)
      r.fail(`raw_data has ${raw.length} bytes, dims ${JSON.stringify(dims)} need ${bytes}`);
    const copy = new Uint8Array(bytes);          // aligned copy
    copy.set(raw);
    data = new Arr(copy.buffer);                 // little-endian host assumed
  } else {
    let src;
    if (type === 'float32') src = f32;
    else if (type === 'float64') src = f64;
    else if (type === 'int64') src = i64.map((x) => BigInt.asIntN(64, x));
    else if (type === 'uint64') src = u64.length ? u64 : i64;
    else if (type === 'uint32') src = u64.length ? u64.map(Number) : i32.map((x) => Number(BigInt.asUintN(32, x)));
    else src = i32.map((x) => Number(BigInt.asIntN(32, x)));   // int8..uint16, bool, float16 bits
    if (src.length !== count)
      r.fail(`has ${src.length} values, dims ${JSON.stringify(dims)} need ${count}`);
    data = new Arr(count);
    for (let i = 0; i < count; i++) data[i] = (type === 'float16') ? (src[i] & 0xffff) : src[i];
  }
  return { name, dims, dataType, type, data };
}

function readTensorFile(file) {
  let buf;
  try { buf = fs.readFileSync(file); } catch (e) {
    throw new UsageError(`cannot read ${file}: ${e.code || e.message}`);
  }
  return decodeTensorProto(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), file);
}

// Files prefix_0.pb, prefix_1.pb ... in numeric order.
function listNumbered(dir, prefix) {
  let names;
  try { names = fs.readdirSync(dir); } catch (e) {
    throw new UsageError(`cannot read directory ${dir}: ${e.code || e.message}`);
  }
  const re = new RegExp('^' + prefix + '_(\\d+)\\.pb$');
  return names.map((n) => [n, re.exec(n)]).filter((x) => x[1])
    .sort((a, b) => Number(a[1][1]) - Number(b[1][1]))
    .map((x) => path.join(dir, x[0]));
}

// ------------------------------------------------------------ random inputs
// mulberry32: small deterministic PRNG, returns floats in [0,1)
function makeRng(seed) {
  let a = (seed >>> 0) || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function resolveShape(shape, dimMap, inputName) {
  if (!Array.isArray(shape)) return [1];
  return shape.map((d) => {
    if (typeof d === 'number' && d >= 0) return d;
    if (typeof d === 'string' && d !== '' && Object.prototype.hasOwnProperty.call(dimMap, d))
      return dimMap[d];
    if (Object.prototype.hasOwnProperty.call(dimMap, inputName + ':' + d)) return dimMap[inputName + ':' + d];
    return 1;
  });
}

function randomTensorData(type, count, rng) {
  const Arr = ORT_ARRAY[type];
  if (!Arr) throw new UsageError('cannot make random data for input type ' + type);
  const a = new Arr(count);
  for (let i = 0; i < count; i++) {
    const u = rng();
    switch (type) {
      case 'float32': case 'float64': a[i] = 2 * u - 1; break;
      case 'float16': a[i] = floatToHalf(2 * u - 1); break;
      case 'bool': a[i] = u < 0.5 ? 0 : 1; break;
      case 'int64': case 'uint64': a[i] = BigInt(Math.floor(u * 4)); break;
      default: a[i] = Math.floor(u * 4); // small non-negative ints 0..3
    }
  }
  return a;
}

// Build {name: {type, dims, data}} for every input in the metadata.
function makeRandomInputs(meta, seed, dimMap) {
  const rng = makeRng(seed);
  const out = {};
  for (const m of meta) {
    if (m.isTensor === false) throw new UsageError(`input '${m.name}' is not a tensor`);
    const dims = resolveShape(m.shape, dimMap, m.name);
    const count = dims.reduce((a, b) => a * b, 1);
    out[m.name] = { type: m.type, dims, data: randomTensorData(m.type, count, rng) };
  }
  return out;
}

// ------------------------------------------------------------------ session
function parseDim(s) {
  const i = s.lastIndexOf('=');
  if (i <= 0) throw new UsageError(`--dim expects NAME=VALUE, got '${s}'`);
  const v = Number(s.slice(i + 1));
  if (!Number.isInteger(v) || v < 0) throw new UsageError(`--dim ${s}: value must be a non-negative integer`);
  return [s.slice(0, i), v];
}

const OPT_LEVELS = { none: 'disabled', disabled: 'disabled', basic: 'basic', extended: 'extended', all: 'all' };

function sessionOptions(opts) {
  const o = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: OPT_LEVELS[opts.opt || 'all'],
    logSeverityLevel: 3,
  };
  if (!o.graphOptimizationLevel) throw new UsageError(`--opt must be one of none|basic|extended|all`);
  if (opts.threads) { o.intraOpNumThreads = opts.threads; o.interOpNumThreads = 1; }
  return o;
}

async function createSession(ort, file, opts) {
  if (!fs.existsSync(file)) throw new UsageError(`model file not found: ${file}`);
  try {
    return await ort.InferenceSession.create(file, sessionOptions(opts));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot load model ${file}: ${String(e.message || e).split('\n')[0]}`);
  }
}

function toOrtFeeds(ort, inputs) {
  const feeds = {};
  for (const [k, v] of Object.entries(inputs)) feeds[k] = new ort.Tensor(v.type, v.data, v.dims);
  return feeds;
}

// Match the inputs prepared for one model to another model's input names:
// by name when all names exist, else by position when counts match.
function mapInputsTo(inputs, names, label) {
  const keys = Object.keys(inputs);
  if (names.every((n) => keys.includes(n)) && names.length === keys.length) {
    const o = {}; for (const n of names) o[n] = inputs[n]; return o;
  }
  if (names.length === keys.length) {
    const o = {}; names.forEach((n, i) => { o[n] = inputs[keys[i]]; }); return o;
  }
  throw new UsageError(`${label} has ${names.length} inputs (${names.join(', ')}), ` +
                       `expected ${keys.length} (${keys.join(', ')})`);
}

module.exports = {
  UsageError, loadOrt, decodeTensorProto, readTensorFile, listNumbered,
  makeRng, makeRandomInputs, resolveShape, parseDim, createSession, sessionOptions,
  toOrtFeeds, mapInputsTo, toNumbers, halfToFloat, floatToHalf, FLOAT_TYPES,
  ONNX_TO_ORT, ORT_ARRAY,
};
