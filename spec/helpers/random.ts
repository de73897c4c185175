/** Deterministic pseudo-random numbers for tests (xorshift32), so failures reproduce from a seed. */
export class Rng {
  private s: number;
  constructor(seed = 0x9e3779b9) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return this.next() % n;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}

/** Splits `data` into separate buffers (fresh copies, really split) at the given cut points. */
export function splitAt(data: Uint8Array, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    if (c <= prev || c >= data.length) continue;
    out.push(Buffer.from(data.subarray(prev, c)));
    prev = c;
  }
  out.push(Buffer.from(data.subarray(prev)));
  return out;
}

/** One-byte chunks. */
export function bytewise(data: Uint8Array): Buffer[] {
  return Array.from(data, (b) => Buffer.from([b]));
}

/** Random split points. */
export function randomSplits(data: Uint8Array, rng: Rng, maxPieces = 8): Buffer[] {
  const n = rng.int(maxPieces);
  const cuts: number[] = [];
  for (let i = 0; i < n; i++) cuts.push(1 + rng.int(Math.max(1, data.length - 1)));
  return splitAt(data, cuts);
}

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
