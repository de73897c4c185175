/**
 * Requests we sent and await a REPLY for: reply tags, the pending map and its timeout sweep.
 *
 * As in C++ oxenmq (upstream `oxenmq/proxy.cpp`, `oxenmq/oxenmq.cpp`), pending requests are
 * kept in one map per instance keyed by tag only, so a REPLY completes its request whichever
 * connection it arrives on; the tag is 15 random bytes, which makes that safe in practice. Time
 * comes from the caller (`now`), and one coarse sweep on the cleanup tick fails what has expired:
 * no timer per request.
 */
import { bytesEqual } from '../zmtp/index.js';
import type { ConnectionID } from './connection-id.js';
import { channels } from './diagnostics.js';
import { type OmqError, RequestError, type RequestErrorCode } from './errors.js';

/** Bytes in a reply tag (upstream: 15 pseudo-random bytes; ours come from a CSPRNG). */
export const TAG_BYTES = 15;
/**
 * Tags drawn per refill of the random pool, which every instance shares: a refill costs a few
 * µs whatever its size, 13 ns a tag at 256 tags, 6 ns at 1024 (15 KiB; getRandomValues gives
 * at most 64 KiB a call).
 */
const TAGS_PER_POOL = 1024;
let pool = new Uint8Array(0);
let poolPos = 0;

/**
 * The next TAG_BYTES random bytes of the shared pool, as a view that nothing writes to again. A
 * plain Uint8Array: making one costs about 40 ns, a Buffer view (subarray) about 85.
 */
function drawTag(): Uint8Array {
  if (poolPos + TAG_BYTES > pool.length) {
    pool = globalThis.crypto.getRandomValues(new Uint8Array(TAG_BYTES * TAGS_PER_POOL));
    poolPos = 0;
  }
  const tag = new Uint8Array(pool.buffer, poolPos, TAG_BYTES);
  poolPos += TAG_BYTES;
  return tag;
}

/**
 * The resolving functions of the promise {@link capture} last saw. A shared executor instead of
 * a closure per request: that closure and its context were about 95 of the bytes each request
 * allocated.
 */
const captured: { resolve: ((data: Uint8Array[]) => void) | undefined; reject: ((err: OmqError) => void) | undefined } = { resolve: undefined, reject: undefined };

function capture(resolve: (data: Uint8Array[]) => void, reject: (err: OmqError) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

interface Pending {
  /** The whole tag: the map is keyed by its first 30 bits, a match must be exact. */
  readonly tag: Uint8Array;
  readonly deadline: number;
  readonly command: string;
  readonly conn: ConnectionID | Uint8Array;
  /** When it started (performance.now()), kept only while someone traces requests; else 0. */
  readonly started: number;
  readonly resolve: (data: Uint8Array[]) => void;
  readonly reject: (err: OmqError) => void;
  /** Undoes the caller's extra wiring (an AbortSignal listener) once the request settles. */
  cleanup: (() => void) | undefined;
}

/**
 * The map key of a tag of ours: its first 30 bits as a number; undefined for any other length.
 * 30 bits keep the key a small integer (V8's Smi), which the Map hashes without allocating; a
 * 48-bit key was a heap number, allocated on every add, lookup and delete.
 */
function keyOf(tag: Uint8Array): number | undefined {
  if (tag.length !== TAG_BYTES) return undefined;
  return tag[0]! | (tag[1]! << 8) | (tag[2]! << 16) | ((tag[3]! & 0x3f) << 24);
}

/** The pending requests of one instance. */
export class Requests {
  /** Keyed by the tag's first 30 bits as a number: no string per request or reply. */
  readonly #pending = new Map<number, Pending>();

  /** Requests still waiting for their reply. */
  get size(): number {
    return this.#pending.size;
  }

  /** A fresh reply tag: 15 bytes from the platform CSPRNG, drawn from a pool refilled 1024 tags at a time. */
  newTag(): Uint8Array {
    for (;;) {
      const tag = drawTag();
      // Two pending tags sharing their first 30 bits would share a key: draw again (p ≈ n·2⁻³⁰).
      if (!this.#pending.has(keyOf(tag)!)) return tag;
    }
  }

  /**
   * Registers a request to `conn` sent with `tag`; it settles on its reply, its error reply, at
   * `deadline`, or when {@link Requests.cancel} is called. `cleanup` runs once it has settled.
   */
  add(tag: Uint8Array, command: string, conn: ConnectionID | Uint8Array, deadline: number, cleanup?: () => void): Promise<Uint8Array[]> {
    const traced = channels.requestStart.hasSubscribers || channels.requestEnd.hasSubscribers;
    if (channels.requestStart.hasSubscribers) channels.requestStart.publish({ command, conn });
    const promise = new Promise<Uint8Array[]>(capture);
    const { resolve, reject } = captured;
    // Not kept past here: they would hold the last request's promise (and whoever awaits it).
    captured.resolve = captured.reject = undefined;
    this.#pending.set(keyOf(tag)!, { tag, deadline, command, conn, started: traced ? performance.now() : 0, resolve: resolve!, reject: reject!, cleanup });
    return promise;
  }

  /** A REPLY arrived: resolves its request with `data`. False when no request has that tag (unknown or expired). */
  resolve(tag: Uint8Array, data: Uint8Array[]): boolean {
    const p = this.#take(tag);
    if (p === undefined) return false;
    this.#ended(p, 'reply');
    p.resolve(data);
    return true;
  }

  /** An error reply (`[ERR][REPLY][tag]`) arrived: rejects its request with `code`. False when the tag is unknown. */
  reject(tag: Uint8Array, code: RequestErrorCode): boolean {
    const p = this.#take(tag);
    if (p === undefined) return false;
    this.#fail(p, new RequestError(code, p.command));
    return true;
  }

  /** Gives up on a request (its caller aborted): rejects it with `err` now. False when the tag is unknown. */
  cancel(tag: Uint8Array, err: OmqError): boolean {
    const p = this.#take(tag);
    if (p === undefined) return false;
    this.#fail(p, err);
    return true;
  }

  /** Fails with `TIMEOUT` every request whose deadline is at or before `now`; returns how many. */
  sweep(now: number): number {
    let n = 0;
    for (const [key, p] of this.#pending) {
      if (now >= p.deadline) {
        this.#pending.delete(key);
        this.#fail(p, new RequestError('TIMEOUT', p.command));
        n++;
      }
    }
    return n;
  }

  /** Fails every pending request with the error `make` builds for it (on close). */
  failAll(make: (command: string) => RequestError): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of all) this.#fail(p, make(p.command));
  }

  #take(tag: Uint8Array): Pending | undefined {
    const key = keyOf(tag);
    if (key === undefined) return undefined;
    const p = this.#pending.get(key);
    if (p === undefined || !bytesEqual(p.tag, tag)) return undefined;
    this.#pending.delete(key);
    return p;
  }

  #fail(p: Pending, err: OmqError): void {
    this.#ended(p, err.code);
    p.reject(err);
  }

  #ended(p: Pending, outcome: string): void {
    p.cleanup?.();
    if (channels.requestEnd.hasSubscribers) {
      channels.requestEnd.publish({ command: p.command, conn: p.conn, outcome, durationMs: p.started > 0 ? performance.now() - p.started : 0 });
    }
  }
}
