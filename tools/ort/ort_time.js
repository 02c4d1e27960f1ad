#!/usr/bin/env node
'use strict';
// Latency of two ONNX models in onnxruntime (CPU), measured in one process with
// the runs interleaved A,B,A,B,... so that machine noise hits both alike.
//
//   node tools/ort/ort_time.js A.onnx B.onnx [--runs N] [--warmup N]
//        [--threads N] [--dim NAME=V ...] [--opt LEVEL] [--seed N] [--json]
//
// Prints the median (and min, mean) latency in ms of each model and the
// ratio B/A of the medians. Exit 0 on success, 2 on usage/load error.

const C = require('./ort_common');
const { UsageError } = C;

const USAGE = `usage: node ort_time.js A.onnx B.onnx [options]

options:
  --runs N        timed runs per model (default 20)
  --warmup N      untimed runs per model first (default 3)
  --threads N     intra-op threads (default: onnxruntime's)
  --dim NAME=V    value for a symbolic input dim (repeatable; unknown dims = 1)
  --opt LEVEL     graph optimization: all (default), extended, basic, none
  --seed N        seed for the random inputs (default 0)
  --json          print a JSON report
  -h, --help      this text`;

function parseArgs(argv) {
  const o = { models: [], runs: 20, warmup: 3, threads: 0, dims: {}, opt: 'all', seed: 0, json: false };
  const num = (i, flag, min) => {
    if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
    const v = Number(argv[i + 1]);
    if (!Number.isInteger(v) || v < min) throw new UsageError(`${flag} must be an integer >= ${min}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '-h': case '--help': o.help = true; break;
      case '--runs': o.runs = num(i, a, 1); i++; break;
      case '--warmup': o.warmup = num(i, a, 0); i++; break;
      case '--threads': o.threads = num(i, a, 1); i++; break;
      case '--seed': o.seed = num(i, a, 0); i++; break;
      case '--dim': {
        if (i + 1 >= argv.length) throw new UsageError('--dim needs a value');
        const [k, v] = C.parseDim(argv[++i]); o.dims[k] = v; break;
      }
      case '--opt':
        if (i + 1 >= argv.length) throw new UsageError('--opt needs a value');
        o.opt = argv[++i]; break;
      case '--json': o.json = true; break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        o.models.push(a);
    }
  }
  if (!o.help && o.models.length !== 2) throw new UsageError('expected two model files A.onnx B.onnx');
  return o;
}

function stats(ms) {
  const s = ms.slice().sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  const mean = s.reduce((a, b) => a + b, 0) / n;
  return { median_ms: median, min_ms: s[0], max_ms: s[n - 1], mean_ms: mean, runs: n };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) { console.log(USAGE); return 0; }
  const ort = C.loadOrt();
  const [fa, fb] = opts.models;
  const sa = await C.createSession(ort, fa, opts);
  const sb = await C.createSession(ort, fb, opts);
  if (!Array.isArray(sa.inputMetadata)) throw new UsageError('this onnxruntime-node has no inputMetadata');
  const inputs = C.makeRandomInputs(sa.inputMetadata, opts.seed, opts.dims);
  const feeds = [
    C.toOrtFeeds(ort, C.mapInputsTo(inputs, sa.inputNames, fa)),
    C.toOrtFeeds(ort, C.mapInputsTo(inputs, sb.inputNames, fb)),
  ];
  const sessions = [sa, sb], files = [fa, fb];
  const runOnce = async (k) => {
    const t0 = process.hrtime.bigint();
    try {
      await sessions[k].run(feeds[k]);
    } catch (e) {
      throw new UsageError(`running ${files[k]} failed: ${String(e.message || e).split('\n')[0]}`);
    }
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  for (let i = 0; i < opts.warmup; i++) { await runOnce(0); await runOnce(1); }
  const times = [[], []];
  for (let i = 0; i < opts.runs; i++) {
    // alternate which model goes first so neither always follows the other
    const order = i % 2 ? [1, 0] : [0, 1];
    for (const k of order) times[k].push(await runOnce(k));
  }
  const a = stats(times[0]), b = stats(times[1]);
  const rep = {
    a: Object.assign({ model: fa }, a),
    b: Object.assign({ model: fb }, b),
    ratio_b_over_a: b.median_ms / a.median_ms,
    threads: opts.threads || 'default',
    graph_optimization: opts.opt,
    inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, { type: v.type, dims: v.dims }])),
  };
  if (opts.json) {
    console.log(JSON.stringify(rep, null, 2));
  } else {
    const f = (x) => x.toFixed(3);
    console.log(`A ${fa}: median ${f(a.median_ms)} ms  (min ${f(a.min_ms)}, mean ${f(a.mean_ms)}, ${a.runs} runs)`);
    console.log(`B ${fb}: median ${f(b.median_ms)} ms  (min ${f(b.min_ms)}, mean ${f(b.mean_ms)}, ${b.runs} runs)`);
    console.log(`ratio B/A (median): ${rep.ratio_b_over_a.toFixed(4)}`);
  }
  return 0;
}

if (require.main === module) {
  main().then((code) => { process.exitCode = code; }, (e) => {
    if (e instanceof UsageError) {
      console.error('ort_time: ' + e.message);
      if (/needs|expected|unknown option|must be/.test(e.message)) console.error(USAGE);
    } else {
      console.error('ort_time: ' + (e && e.stack || e));
    }
    process.exitCode = 2;
  });
}
