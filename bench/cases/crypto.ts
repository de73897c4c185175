/**
 * crypto: crypto_box seal and open after beforenm (XSalsa20-Poly1305 under a precomputed key, the
 * per-box cost of CurveZMQ) at 64 B, 4 KiB and 64 KiB, in ops/s and B/s, interleaved with
 * libsodium (what libzmq's CURVE uses) twice over: natively through sodium-native, and as its
 * WebAssembly build through libsodium-wrappers. Runs in the CLI process: no sockets involved.
 *
 * Before timing anything it checks that our boxes are byte-identical to each reference's and open
 * back to the plaintext, so a fast but wrong cipher fails the case instead of winning it.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
// The box functions are internal to curve/ (its index exports the mechanisms, not the
// primitives), so this one file is imported directly.
import * as box from '../../curve/box.js';
import { bytesEqual as equal } from '../../zmtp/index.js';

const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
import { type SodiumNative, type SodiumWasm, loadSodiumNative, loadSodiumWasm } from '../native.js';
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

/** A libsodium build to compare with, bound to the bench's box key. */
interface Reference {
  peer: string;
  /** Its box of `msg` (ours must be byte-identical). */
  seal(msg: Uint8Array): Uint8Array;
  /** Seal and open of `msg` as a user of this build writes them. */
  impl(msg: Uint8Array, sealed: Uint8Array): Impl;
}

/** libsodium-wrappers: libsodium compiled to WebAssembly, called through its own API. */
function wasmReference(s: SodiumWasm, key: Uint8Array, nonce: Uint8Array): Reference {
  return {
    peer: 'libsodium-wrappers',
    seal: (msg) => s.crypto_box_easy_afternm(msg, nonce, key),
    impl: (msg, sealed) => ({
      peer: 'libsodium-wrappers',
      seal: () => void s.crypto_box_easy_afternm(msg, nonce, key),
      open: () => void s.crypto_box_open_easy_afternm(sealed, nonce, key),
    }),
  };
}

/**
 * sodium-native: libsodium as a Node addon. It has no crypto_box_*_afternm, but libsodium defines
 * crypto_box_easy_afternm as crypto_secretbox under the beforenm key (src/libsodium/crypto_box/
 * crypto_box_easy.c), so secretbox under our precomputed key is the same operation; the
 * byte-for-byte check below holds it to that. Outputs are preallocated, as its API requires.
 */
function nativeReference(s: SodiumNative, key: Uint8Array, nonce: Uint8Array): Reference {
  const k = asBuffer(key);
  const n = asBuffer(nonce);
  const seal = (msg: Buffer, out: Buffer) => s.crypto_secretbox_easy(out, msg, n, k);
  return {
    peer: 'sodium-native',
    seal: (msg) => {
      const out = Buffer.alloc(msg.length + s.crypto_secretbox_MACBYTES);
      seal(asBuffer(msg), out);
      return out;
    },
    impl: (msg, sealed) => {
      const m = asBuffer(msg);
      const c = asBuffer(sealed);
      const sealOut = Buffer.alloc(m.length + s.crypto_secretbox_MACBYTES);
      const openOut = Buffer.alloc(m.length);
      return {
        peer: 'sodium-native',
        seal: () => seal(m, sealOut),
        open: () => {
          if (!s.crypto_secretbox_open_easy(openOut, c, n, k)) throw new CaseFailure('crypto: sodium-native rejected a valid box');
        },
      };
    },
  };
}

/** Runs the crypto case: seal and open per size, ours against each libsodium build that loads. */
export async function cryptoCase(ctx: CaseContext): Promise<CaseResult> {
  const { opts, report } = ctx;
  if (!opts.peers.includes('ours')) return { name: 'crypto', status: 'skipped', reason: 'needs --peer ours', rows: [] };
  const key = box.beforenm(Buffer.from(ctx.keys.serverPublic, 'hex'), Buffer.from(ctx.keys.clientSecret, 'hex'));
  const nonce = new Uint8Array(randomBytes(24));

  // The references, the native one first; with --peer not naming zeromq (the native reference of
  // the socket cases) they are left out.
  const refs: Reference[] = [];
  const skips: { peer: string; reason: string }[] = [];
  const sources: string[] = [];
  if (opts.peers.includes('zeromq')) {
    const native = await loadSodiumNative();
    if (native.ok) refs.push(nativeReference(native.mod, key, nonce));
    const wasm = await loadSodiumWasm();
    if (wasm.ok) {
      const theirKey = wasm.mod.crypto_box_beforenm(Buffer.from(ctx.keys.serverPublic, 'hex'), Buffer.from(ctx.keys.clientSecret, 'hex'));
      if (!equal(key, theirKey)) throw new CaseFailure('crypto: our beforenm differs from libsodium');
      refs.push(wasmReference(wasm.mod, key, nonce));
    }
    for (const [peer, l] of [['sodium-native', native], ['libsodium-wrappers', wasm]] as const) {
      if (l.ok) sources.push(l.from);
      else {
        report.note(`${l.reason} (${l.detail})`);
        skips.push({ peer, reason: l.reason });
      }
    }
  }
  const sizes = opts.given.has('size') ? [opts.size] : [64, 4096, 65536];
  const durationMs = opts.given.has('duration') ? opts.durationMs : opts.durationMs / 5;
  const rows: Row[] = [];

  for (const size of sizes) {
    const msg = new Uint8Array(randomBytes(size));
    const sealed = box.seal(key, nonce, msg);
    const back = box.open(key, nonce, sealed);
    if (back === null || !equal(back, msg)) throw new CaseFailure(`crypto ${size} B: our box does not open to the plaintext`);
    const impls = [ours(key, nonce, msg, sealed)];
    for (const ref of refs) {
      if (!equal(ref.seal(msg), sealed)) throw new CaseFailure(`crypto ${size} B: our box differs from ${ref.peer}'s`);
      impls.push(ref.impl(msg, sealed));
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
      for (const k of skips) variant.push(skippedRow(label, k.peer, k.reason));
      fillRatios(variant, 'ours', ['sodium-native', 'libsodium-wrappers']);
      rows.push(...variant);
    }
  }
  return { name: 'crypto', status: 'ok', sources, rows };
}
