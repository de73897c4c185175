/**
 * crypto: crypto_box seal and open after beforenm (XSalsa20-Poly1305 under a precomputed key, the
 * per-box cost of CurveZMQ) at 64 B, 4 KiB and 64 KiB, in ops/s and MB/s, interleaved with
 * libsodium's wasm build as the reference. Runs in the CLI process: no sockets involved.
 *
 * Before timing anything it checks that our boxes are byte-identical to libsodium's and open back
 * to the plaintext, so a fast but wrong cipher fails the case instead of winning it.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
// The box functions are internal to curve/ (its index exports the mechanisms, not the
// primitives), so this one file is imported directly.
import * as box from '../../curve/box.js';
import { bytesEqual as equal } from '../../zmtp/index.js';
import { type SodiumWasm, loadSodiumWasm } from '../native.js';
import { type CaseResult, type Row, cpuLine, fillRatios, skippedRow } from '../report.js';
import { Stopwatch } from '../stopwatch.js';
import { median } from '../stats.js';
import { type CaseContext, CaseFailure, type TrialCpu, interleave, selfCpu, sizeLabel } from './context.js';

/** Ops per clock read: keeps performance.now() (~50 ns) well under 5% of a small box (~1 µs). */
function stride(size: number): number {
  return size >= 4096 ? 1 : 32;
}

/** Runs `op` for `durationMs` or exactly `count` times; returns ops/s and CPU µs per op. */
function measure(op: () => void, size: number, durationMs: number, count: number | null): { ops: number; cpu: TrialCpu } {
  const sw = new Stopwatch();
  let n = 0;
  if (count !== null) {
    for (; n < count; n++) op();
  } else {
    const end = performance.now() + durationMs;
    const k = stride(size);
    do {
      for (let i = 0; i < k; i++) op();
      n += k;
    } while (performance.now() < end);
  }
  const { elapsedNs, cpuUs } = sw.read();
  return { ops: n / (elapsedNs / 1e9), cpu: { client: cpuUs / n, server: null } };
}

/** The reference: libsodium, which libzmq's CURVE uses, as its WebAssembly build. */
const WASM = 'libsodium (wasm)';

interface Impl {
  peer: string;
  seal(): void;
  open(): void;
}

function ours(key: Uint8Array, nonce: Uint8Array, msg: Uint8Array, sealed: Uint8Array): Impl {
  // Preallocated outputs, as the engine seals straight into the outgoing frame.
  const sealOut = new Uint8Array(msg.length + 16);
  const openOut = new Uint8Array(msg.length);
  return {
    peer: 'ours',
    seal: () => void box.seal(key, nonce, msg, sealOut),
    open: () => {
      if (box.open(key, nonce, sealed, openOut) === null) throw new CaseFailure('crypto: our open rejected a valid box');
    },
  };
}

function sodium(s: SodiumWasm, key: Uint8Array, nonce: Uint8Array, msg: Uint8Array, sealed: Uint8Array): Impl {
  return {
    peer: WASM,
    seal: () => void s.crypto_box_easy_afternm(msg, nonce, key),
    open: () => void s.crypto_box_open_easy_afternm(sealed, nonce, key),
  };
}

export async function cryptoCase(ctx: CaseContext): Promise<CaseResult> {
  const { opts, report } = ctx;
  if (!opts.peers.includes('ours')) return { name: 'crypto', status: 'skipped', reason: 'needs --peer ours', rows: [] };
  const sod = opts.peers.includes('zeromq') ? await loadSodiumWasm() : null;
  const sources: string[] = [];
  if (sod?.ok) sources.push(sod.from);
  else if (sod) report.note(`${sod.reason} (${sod.detail})`);

  const serverPublic = Buffer.from(ctx.keys.serverPublic, 'hex');
  const clientSecret = Buffer.from(ctx.keys.clientSecret, 'hex');
  const key = box.beforenm(serverPublic, clientSecret);
  const sodiumKey = sod?.ok ? sod.mod.crypto_box_beforenm(serverPublic, clientSecret) : null;
  if (sodiumKey && !equal(key, sodiumKey)) throw new CaseFailure('crypto: our beforenm differs from libsodium');
  const nonce = new Uint8Array(randomBytes(24));
  const sizes = opts.given.has('size') ? [opts.size] : [64, 4096, 65536];
  const durationMs = opts.given.has('duration') ? opts.durationMs : opts.durationMs / 5;
  const rows: Row[] = [];

  for (const size of sizes) {
    const msg = new Uint8Array(randomBytes(size));
    const sealed = box.seal(key, nonce, msg);
    const back = box.open(key, nonce, sealed);
    if (back === null || !equal(back, msg)) throw new CaseFailure(`crypto ${size} B: our box does not open to the plaintext`);
    const impls = [ours(key, nonce, msg, sealed)];
    if (sod?.ok && sodiumKey) {
      if (!equal(sod.mod.crypto_box_easy_afternm(msg, nonce, sodiumKey), sealed)) {
        throw new CaseFailure(`crypto ${size} B: our box differs from libsodium's`);
      }
      impls.push(sodium(sod.mod, sodiumKey, nonce, msg, sealed));
    }
    for (const op of ['seal', 'open'] as const) {
      const label = `crypto ${op} ${sizeLabel(size)}`;
      const byPeer = new Map(impls.map((i) => [i.peer, i]));
      const runs = await interleave(report, label, [...byPeer.keys()], opts.runs, { durationMs, count: opts.count }, async (peer, budget) => {
        const m = measure(byPeer.get(peer)![op], size, budget.durationMs, budget.count);
        // Yield so the progress line paints and timers run between runs.
        await new Promise((r) => setImmediate(r));
        return m;
      });
      const variant: Row[] = impls.map((impl) => {
        const r = runs.get(impl.peer)!.map((m) => m.ops);
        const cpu = selfCpu('box', runs.get(impl.peer)!.map((m) => m.cpu));
        const ops = median(r);
        report.print(
          `${label} · ${impl.peer} · median of ${opts.runs}\nmessage size: ${size} [B]\nmean rate: ${Math.round(ops)} [ops/s]\n` +
            `mean throughput: ${((ops * size) / 1e6).toFixed(1)} [MB/s]\n${cpuLine(cpu)}`,
        );
        return { case: label, peer: impl.peer, runs: r, unit: 'ops/s', higherIsBetter: true, extra: [{ unit: 'B/s', runs: r.map((x) => x * size) }], ratios: {}, cpu };
      });
      if (sod?.ok === false) variant.push(skippedRow(label, WASM, sod.reason));
      fillRatios(variant, 'ours', [WASM]);
      rows.push(...variant);
    }
  }
  return { name: 'crypto', status: 'ok', sources, rows };
}
