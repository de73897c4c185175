#!/usr/bin/env node
/**
 * `npm run fuzz -- [--count N] [--seed S] [--target NAME ...] [--start I] [--time-limit-ms MS]`:
 * feeds every decoder of the library random and mutated-valid input (see targets.ts) and stops at
 * the first crash of each target — a throw other than the typed error the API documents, a failed oracle, or an
 * input slower than the time limit. Prints inputs/s per target; on a crash, the seed, the input's
 * index and the input as hex, and exits 1. Deterministic from --seed (the CURVE targets also draw
 * their transient keys from node:crypto, so a CURVE input replays the same mutations on new keys).
 */
import { parseArgs } from 'node:util';
import { type FuzzResult, describeCrash, fuzz } from './runner.js';
import { TARGETS } from './targets.js';

const USAGE = `usage: npm run fuzz -- [options]
  --count N           inputs per target (default 100000)
  --seed S            32-bit seed (default 1)
  --target NAME       run only this target; repeatable (default: all)
  --start I           index of the first input (with --count 1: replay one input)
  --time-limit-ms MS  an input slower than this on 3 runs is a crash (default 100)
  --list              list the targets and exit
targets: ${TARGETS.map((t) => t.name).join(', ')}`;

function fail(msg: string): never {
  process.stderr.write(`fuzz: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function int(name: string, v: string | undefined, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min) fail(`--${name} must be an integer ≥ ${min}`);
  return n;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      count: { type: 'string' },
      seed: { type: 'string' },
      target: { type: 'string', multiple: true },
      start: { type: 'string' },
      'time-limit-ms': { type: 'string' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (err) {
  fail((err as Error).message);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (values.list) {
  for (const t of TARGETS) process.stdout.write(`${t.name.padEnd(16)} ${t.description}\n`);
  process.exit(0);
}
const count = int('count', values.count, 100_000, 1);
const seed = int('seed', values.seed, 1) >>> 0;
const start = int('start', values.start, 0);
const timeLimitMs = int('time-limit-ms', values['time-limit-ms'], 100, 1);
const names = values.target ?? [];
for (const n of names) if (!TARGETS.some((t) => t.name === n)) fail(`unknown target ${n}`);
const chosen = names.length > 0 ? TARGETS.filter((t) => names.includes(t.name)) : TARGETS;

process.stdout.write(`fuzz · seed ${seed} · ${count} inputs per target · time limit ${timeLimitMs} ms · node ${process.version}\n`);
const results: FuzzResult[] = [];
let crashed = false;
for (const t of chosen) {
  const r = fuzz(t, {
    count,
    seed,
    start,
    timeLimitMs,
    progressEvery: 50_000,
    onProgress: (done, ms) => process.stderr.write(`  ${t.name}: ${done}/${count} (${Math.round(done / (ms / 1000))} inputs/s)\n`),
  });
  results.push(r);
  const rate = r.inputs / (r.elapsedMs / 1000);
  const rejected = ((100 * r.rejected) / r.inputs).toFixed(1);
  process.stdout.write(
    `${t.name.padEnd(16)} ${String(r.inputs).padStart(9)} inputs  ${rate.toFixed(0).padStart(8)} inputs/s  ${rejected.padStart(5)}% typed errors  ${r.crash ? 'CRASH' : 'ok'}\n`,
  );
  if (r.crash) {
    process.stdout.write(`${describeCrash(r.crash)}\n`);
    crashed = true;
  }
}
process.stdout.write(crashed ? 'fuzz: crash found\n' : `fuzz: ${results.length} targets clean\n`);
process.exitCode = crashed ? 1 : 0;
