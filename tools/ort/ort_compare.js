#!/usr/bin/env node
'use strict';
// Compare the outputs of two ONNX models on the same inputs in onnxruntime.
//
//   node tools/ort/ort_compare.js A.onnx B.onnx [options]
//   node tools/ort/ort_compare.js A.onnx [B.onnx] --inputs DIR --expected
//
// Exit status: 0 all outputs pass, 1 some output differs, 2 usage/load error.

const path = require('path');
const C = require('./ort_common');
const { UsageError } = C;

const USAGE = `usage: node ort_compare.js A.onnx B.onnx [options]
       node ort_compare.js A.onnx [B.onnx] --inputs DIR --expected [options]

Runs both models in onnxruntime (CPU) on the same inputs and compares every
output: max abs diff, relative L2 error ||a-b||/||a|| and bitwise equality.

options:
  --inputs DIR      read inputs from DIR/input_0.pb, input_1.pb ... (TensorProto)
  --expected        compare each model against DIR/output_*.pb (needs --inputs)
  --seed N          seed for random inputs (default 0)
  --dim NAME=V      value for a symbolic input dim (repeatable; unknown dims = 1)
  --rtol R          pass if rel L2 <= R (default 1e-5)
  --bitexact        pass only if output bytes are identical
  --opt LEVEL       graph optimization: all (default), extended, basic, none
  --threads N       intra-op threads (default: onnxruntime's)
  --json            print a JSON report instead of text
  -h, --help        this text`;

function parseArgs(argv) {
  const o = { models: [], seed: 0, dims: {}, rtol: 1e-5, bitexact: false, json: false,
              expected: false, inputs: null, opt: 'all', threads: 0 };
  const need = (i, flag) => {
    if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '-h': case '--help': o.help = true; break;
      case '--inputs': o.inputs = need(i, a); i++; break;
      case '--expected': o.expected = true; break;
      case '--seed': o.seed = Number(need(i, a)); i++;
        if (!Number.isInteger(o.seed)) throw new UsageError('--seed must be an integer'); break;
      case '--dim': { const [k, v] = C.parseDim(need(i, a)); o.dims[k] = v; i++; break; }
      case '--rtol': o.rtol = Number(need(i, a)); i++;
        if (!(o.rtol >= 0)) throw new UsageError('--rtol must be a non-negative number'); break;
      case '--bitexact': o.bitexact = true; break;
      case '--opt': o.opt = need(i, a); i++; break;
      case '--threads': o.threads = Number(need(i, a)); i++;
        if (!Number.isInteger(o.threads) || o.threads < 1) throw new UsageError('--threads must be >= 1'); break;
      case '--json': o.json = true; break;
      default:
        if (a.startsWith('--dim=')) { const [k, v] = C.parseDim(a.slice(6)); o.dims[k] = v; break; }
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        o.models.push(a);
    }
  }
  if (o.help) return o;
  if (o.expected) {
    if (!o.inputs) throw new UsageError('--expected needs --inputs DIR');
    if (o.models.length < 1 || o.models.length > 2) throw new UsageError('expected one or two model files');
  } else if (o.models.length !== 2) {
    throw new UsageError('expected two model files A.onnx B.onnx');
  }
  return o;
}

// Compare two tensors given as {type, dims, data}.
function compareTensors(a, b, rtol, bitexact) {
  const r = { shape_a: a.dims, shape_b: b.dims, type_a: a.type, type_b: b.type };
  const sameShape = a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]);
  if (!sameShape || a.type !== b.type || a.data.length !== b.data.length) {
    r.error = !sameShape ? 'shape mismatch' : a.type !== b.type ? 'dtype mismatch' : 'size mismatch';
    r.bitexact = false; r.max_abs = null; r.rel_l2 = null; r.pass = false;
    return r;
  }
  const ba = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const bb = Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  r.bitexact = ba.equals(bb);
  const x = C.toNumbers(a.type, a.data), y = C.toNumbers(b.type, b.data);
  let maxAbs = 0, num = 0, den = 0, nanMismatch = 0, maxIdx = -1;
  for (let i = 0; i < x.length; i++) {
    const p = x[i], q = y[i];
    if (Number.isNaN(p) || Number.isNaN(q)) {
      if (!(Number.isNaN(p) && Number.isNaN(q))) nanMismatch++;
      continue;
    }
    let d = p === q ? 0 : Math.abs(p - q);   // equal infinities -> 0
    if (Number.isNaN(d)) d = Infinity;
    if (d > maxAbs) { maxAbs = d; maxIdx = i; }
    num += d * d;
    if (Number.isFinite(p)) den += p * p;
  }
  r.count = x.length;
  r.max_abs = nanMismatch ? Infinity : maxAbs;
  if (maxIdx >= 0) { r.max_abs_index = maxIdx; r.max_abs_a = x[maxIdx]; r.max_abs_b = y[maxIdx]; }
  if (nanMismatch) { r.nan_mismatch = nanMismatch; r.rel_l2 = Infinity; }
  else if (num === 0) r.rel_l2 = 0;
  else r.rel_l2 = den > 0 ? Math.sqrt(num) / Math.sqrt(den) : Infinity;
  r.pass = bitexact ? r.bitexact : (r.rel_l2 <= rtol);
  return r;
}

async function runModel(ort, session, inputs, file) {
  const feeds = C.toOrtFeeds(ort, C.mapInputsTo(inputs, session.inputNames, file));
  let res;
  try {
    res = await session.run(feeds);
  } catch (e) {
    throw new UsageError(`running ${file} failed: ${String(e.message || e).split('\n')[0]}`);
  }
  const out = new Map();   // keeps the model's output order
  for (const n of session.outputNames) {
    const t = res[n];
    if (t.type === 'string') throw new UsageError(`${file}: output '${n}' is a string tensor (unsupported)`);
    out.set(n, { type: t.type, dims: t.dims.slice(), data: t.data });
  }
  return out;
}

// Pair outputs of two runs: by name when the name sets agree, else by position.
function pairOutputs(oa, ob) {
  const ka = [...oa.keys()], kb = [...ob.keys()];
  const byName = ka.length === kb.length && ka.every((k) => kb.includes(k));
  if (byName) return ka.map((k) => [k, k]);
  if (ka.length === kb.length) return ka.map((k, i) => [k, kb[i]]);
  return null;
}

function fmt(v) {
  if (v === null || v === undefined) return '-';
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return String(v);
  return v.toExponential(3);
}

function printText(rep) {
  const lines = [];
  lines.push(`inputs: ${rep.inputs_source}` +
             Object.entries(rep.inputs).map(([k, v]) => `\n  ${k} ${v.type}[${v.dims.join(',')}]`).join(''));
  for (const cmp of rep.comparisons) {
    lines.push(`${cmp.a}  vs  ${cmp.b}`);
    if (cmp.error) { lines.push(`  FAIL  ${cmp.error}`); continue; }
    for (const o of cmp.outputs) {
      const nm = o.name_a === o.name_b ? o.name_a : `${o.name_a}/${o.name_b}`;
      const st = o.pass ? 'PASS' : 'FAIL';
      if (o.error) {
        lines.push(`  ${st}  ${nm}: ${o.error} (${o.type_a}[${o.shape_a}] vs ${o.type_b}[${o.shape_b}])`);
      } else {
        lines.push(`  ${st}  ${nm} ${o.type_a}[${o.shape_a.join(',')}]  max_abs=${fmt(o.max_abs)}` +
                   `  rel_l2=${fmt(o.rel_l2)}  bitexact=${o.bitexact ? 'yes' : 'no'}` +
                   (o.nan_mismatch ? `  nan_mismatch=${o.nan_mismatch}` : ''));
      }
    }
  }
  lines.push(`${rep.pass ? 'PASS' : 'FAIL'} (${rep.criterion})`);
  console.log(lines.join('\n'));
}

function jsonSafe(k, v) {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) { console.log(USAGE); return 0; }
  const ort = C.loadOrt();
  const sessions = [];
  for (const f of opts.models) sessions.push(await C.createSession(ort, f, opts));

  // Inputs: from files, or random from model A's metadata.
  let inputs, source;
  const s0 = sessions[0];
  if (opts.inputs) {
    const files = C.listNumbered(opts.inputs, 'input');
    if (files.length === 0) throw new UsageError(`no input_*.pb files in ${opts.inputs}`);
    const tensors = files.map(C.readTensorFile);
    const names = s0.inputNames;
    if (tensors.length !== names.length)
      throw new UsageError(`${opts.models[0]} has ${names.length} inputs, ${opts.inputs} has ${tensors.length} input files`);
    const allNamed = tensors.every((t) => names.includes(t.name)) &&
                     new Set(tensors.map((t) => t.name)).size === tensors.length;
    inputs = {};
    tensors.forEach((t, i) => {
      inputs[allNamed ? t.name : names[i]] = { type: t.type, dims: t.dims, data: t.data };
    });
    source = opts.inputs;
  } else {
    const meta = s0.inputMetadata;
    if (!Array.isArray(meta)) throw new UsageError('this onnxruntime-node has no inputMetadata; use --inputs');
    inputs = C.makeRandomInputs(meta, opts.seed, opts.dims);
    source = `random, seed ${opts.seed}`;
  }

  const outs = [];
  for (let i = 0; i < sessions.length; i++) outs.push(await runModel(ort, sessions[i], inputs, opts.models[i]));

  const comparisons = [];
  const compare = (la, oa, lb, ob) => {
    const c = { a: la, b: lb };
    const pairs = pairOutputs(oa, ob);
    if (!pairs) {
      c.error = `output count differs: ${oa.size} vs ${ob.size}`;
      c.pass = false;
    } else {
      c.outputs = pairs.map(([na, nb]) =>
        Object.assign({ name_a: na, name_b: nb }, compareTensors(oa.get(na), ob.get(nb), opts.rtol, opts.bitexact)));
      c.pass = c.outputs.every((o) => o.pass);
    }
    comparisons.push(c);
  };

  if (opts.expected) {
    const files = C.listNumbered(opts.inputs, 'output');
    if (files.length === 0) throw new UsageError(`no output_*.pb files in ${opts.inputs}`);
    const ref = new Map();
    const refTensors = files.map(C.readTensorFile);
    const names = s0.outputNames;
    const allNamed = refTensors.length === names.length && refTensors.every((t) => names.includes(t.name));
    refTensors.forEach((t, i) => {
      const key = allNamed ? t.name : (i < names.length ? names[i] : (t.name || `output_${i}`));
      ref.set(key, { type: t.type, dims: t.dims, data: t.data });
    });
    const refLabel = path.join(opts.inputs, 'output_*.pb');
    for (let i = 0; i < sessions.length; i++) compare(opts.models[i], outs[i], refLabel, ref);
  } else {
    compare(opts.models[0], outs[0], opts.models[1], outs[1]);
  }

  const rep = {
    pass: comparisons.every((c) => c.pass),
    criterion: opts.bitexact ? 'bitexact' : `rel_l2 <= ${opts.rtol}`,
    graph_optimization: opts.opt,
    inputs_source: source,
    inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, { type: v.type, dims: v.dims }])),
    comparisons,
  };
  if (opts.json) console.log(JSON.stringify(rep, jsonSafe, 2));
  else printText(rep);
  return rep.pass ? 0 : 1;
}

if (require.main === module) {
  main().then((code) => { process.exitCode = code; }, (e) => {
    if (e instanceof UsageError) {
      console.error('ort_compare: ' + e.message);
      if (/needs|expected|unknown option|must be/.test(e.message)) console.error(USAGE);
    } else {
      console.error('ort_compare: ' + (e && e.stack || e));
    }
    process.exitCode = 2;
  });
}

module.exports = { compareTensors };
