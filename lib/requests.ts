/**
 * Requests we sent and await a REPLY for: reply tags, the pending map and its timeout sweep.
 *
 * As in C++ oxenmq (upstream `oxenmq/proxy.cpp`, `oxenmq/oxenmq.cpp`), pending requests are
 * kept in one map per instance keyed by tag only, so a REPLY completes its request whichever
 * connection it arrives on; the tag is 15 random bytes, which makes that safe in practice. Time
 * comes from the caller (`now`), and one coarse sweep on the cleanup tick fails what has expired:
 * no timer per request.
 */
import { latin1Key } from '../zmtp/index.js';
import { RequestError, type RequestErrorCode } from './errors.js';

/** Bytes in a reply tag (upstream: 15 pseudo-random bytes; ours come from a CSPRNG). */
export const TAG_BYTES = 15;
/** Tags drawn per refill of the random pool. */
const TAGS_PER_POOL = 256;

interface Pending {
  readonly deadline: number;
  readonly command: string;
  readonly resolve: (data: Buffer[]) => void;
  readonly reject: (err: RequestError) => void;
}

/** The pending requests of one instance. */
export class Requests {
  readonly #pending = new Map<string, Pending>();
  #pool = Buffer.alloc(0);
  #poolPos = 0;

  /** Requests still waiting for their reply. */
  get size(): number {
    return this.#pending.size;
  }

  /** A fresh reply tag: 15 bytes from the platform CSPRNG, drawn from a pool refilled 256 tags at a time. */
  newTag(): Buffer {
    if (this.#poolPos + TAG_BYTES > this.#pool.length) {
      this.#pool = Buffer.allocUnsafe(TAG_BYTES * TAGS_PER_POOL);
      globalThis.crypto.getRandomValues(this.#pool);
      this.#poolPos = 0;
    }
    const tag = this.#pool.subarray(this.#poolPos, this.#poolPos + TAG_BYTES);
    this.#poolPos += TAG_BYTES;
    return tag;
  }

  /** Registers a request sent with `tag`; it settles on its reply, its error reply, or at `deadline`. */
  add(tag: Uint8Array, command: string, deadline: number): Promise<Buffer[]> {
    return new Promise<Buffer[]>((resolve, reject) => {
      this.#pending.set(latin1Key(tag), { deadline, command, resolve, reject });
    });
  }

  /** A REPLY arrived: resolves its request with `data`. False when no request has that tag (unknown or expired). */
  resolve(tag: Uint8Array, data: Buffer[]): boolean {
    const p = this.#take(tag);
    p?.resolve(data);
    return p !== undefined;
  }

  /** An error reply (`[ERR][REPLY][tag]`) arrived: rejects its request with `code`. False when the tag is unknown. */
  reject(tag: Uint8Array, code: RequestErrorCode): boolean {
    const p = this.#take(tag);
    p?.reject(new RequestError(code, p.command));
    return p !== undefined;
  }

  /** Fails with `TIMEOUT` every request whose deadline is at or before `now`; returns how many. */
  sweep(now: number): number {
    let n = 0;
    for (const [key, p] of this.#pending) {
      if (now >= p.deadline) {
        this.#pending.delete(key);
        p.reject(new RequestError('TIMEOUT', p.command));
        n++;
      }
    }
    return n;
  }

  /** Fails every pending request with the error `make` builds for it (on close). */
  failAll(make: (command: string) => RequestError): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of all) p.reject(make(p.command));
  }

  #take(tag: Uint8Array): Pending | undefined {
    const key = latin1Key(tag);
    const p = this.#pending.get(key);
    if (p !== undefined) this.#pending.delete(key);
    return p;
  }
}
