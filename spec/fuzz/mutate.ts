/**
 * Seeded input generation for the fuzz targets: per-input random streams derived from one seed,
 * and the mutations applied to valid inputs (bit flips, byte edits, truncation, extension,
 * deletion, duplication, splicing, length-field edits), as libFuzzer's default mutators do.
 */
import { Rng } from '../helpers/random.js';

/** A 32-bit mix (murmur3's finaliser): spreads nearby seeds over the whole state space. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a of a name, so each target gets its own stream from the same --seed. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The generator of input `index` of a target: a pure function of (seed, target, index). */
export function inputRng(seed: number, target: string, index: number): Rng {
  return new Rng(mix32(mix32(seed ^ nameHash(target)) + index) || 1);
}

/** True with probability `p`. */
export function chance(rng: Rng, p: number): boolean {
  return rng.next() / 0x1_0000_0000 < p;
}

/** One element of `items`. */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)]!;
}

/** Sizes with the edges that matter to length-prefixed formats weighted up. */
export function size(rng: Rng, max = 600): number {
  switch (rng.int(5)) {
    case 0:
      return rng.int(4);
    case 1:
      return pick(rng, [254, 255, 256, 257].filter((n) => n <= max).concat([0]));
    case 2:
      return rng.int(max + 1);
    default:
      return rng.int(33);
  }
}

const INTERESTING_U8 = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff];
const INTERESTING_U32 = [0, 1, 2, 0x7f, 0xff, 0x100, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

/** Applies 1–4 random mutations to a copy of `data`; `other` (optional) is a splice source. */
export function mutate(rng: Rng, data: Uint8Array, other?: Uint8Array): Buffer {
  let b: Buffer = Buffer.from(data);
  const n = 1 + rng.int(4);
  for (let k = 0; k < n; k++) b = mutateOnce(rng, b, other);
  return b;
}

function mutateOnce(rng: Rng, b: Buffer, other?: Uint8Array): Buffer {
  const len = b.length;
  const at = () => rng.int(Math.max(1, len));
  switch (rng.int(10)) {
    case 0: // flip one bit
      if (len > 0) b[at()]! ^= 1 << rng.int(8);
      return b;
    case 1: // one byte to a random or an edge value
      if (len > 0) b[at()] = chance(rng, 0.5) ? rng.int(256) : pick(rng, INTERESTING_U8);
      return b;
    case 2: // truncate
      return b.subarray(0, rng.int(len + 1));
    case 3: // extend with random bytes
      return Buffer.concat([b, rng.bytes(1 + rng.int(16))]);
    case 4: {
      // delete a range
      const s = rng.int(len + 1);
      const e = Math.min(len, s + 1 + rng.int(16));
      return Buffer.concat([b.subarray(0, s), b.subarray(e)]);
    }
    case 5: {
      // duplicate a range of itself somewhere
      const s = rng.int(len + 1);
      const piece = b.subarray(s, Math.min(len, s + 1 + rng.int(32)));
      const d = rng.int(len + 1);
      return Buffer.concat([b.subarray(0, d), piece, b.subarray(d)]);
    }
    case 6: {
      // splice: our head, another valid input's tail
      const src = other ?? b;
      return Buffer.concat([b.subarray(0, rng.int(len + 1)), Buffer.from(src.subarray(rng.int(src.length + 1)))]);
    }
    case 7: {
      // a length field edited: a u32be edge value or a nearby value written over any offset
      if (len < 4) return b;
      const o = rng.int(len - 3);
      const cur = b.readUInt32BE(o);
      const v = chance(rng, 0.5) ? pick(rng, INTERESTING_U32) : (cur + pick(rng, [-2, -1, 1, 2, len, -len])) >>> 0;
      b.writeUInt32BE(v >>> 0, o);
      return b;
    }
    case 8: {
      // a u8 length nudged by ±1/±16
      if (len > 0) {
        const o = at();
        b[o] = (b[o]! + pick(rng, [1, -1, 16, -16]) + 256) & 0xff;
      }
      return b;
    }
    default: {
      // a short run of random bytes overwritten
      const o = at();
      const r = rng.bytes(Math.min(1 + rng.int(8), Math.max(0, len - o)));
      b.set(r, o);
      return b;
    }
  }
}

/** Characters that matter to the text formats (separators, padding, URL-safe base64, non-ASCII). */
const SPECIAL = [' ', '/', ':', '[', ']', '$', '=', '+', '-', '_', '.', '*', '\0', '\n', 'é', '\u{1F600}', 'Z', '0'];

/** Mutates a string: byte-level mutations of its latin1 form plus inserted special characters. */
export function mutateString(rng: Rng, s: string, other?: string): string {
  let out = s;
  const n = 1 + rng.int(3);
  for (let k = 0; k < n; k++) {
    if (chance(rng, 0.3)) {
      const c = pick(rng, SPECIAL);
      const i = rng.int(out.length + 1);
      out = chance(rng, 0.5) ? out.slice(0, i) + c + out.slice(i) : out.slice(0, i) + c + out.slice(i + 1);
    } else {
      const b = mutateOnce(rng, Buffer.from(out, 'latin1'), other === undefined ? undefined : Buffer.from(other, 'latin1'));
      out = b.toString('latin1');
    }
  }
  return out;
}

/** Random printable ASCII of `n` characters. */
export function ascii(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(0x21 + rng.int(94));
  return s;
}

/** Cut points for a stream of `len` bytes: none, a few, or every byte. */
export function cuts(rng: Rng, len: number): number[] {
  if (len < 2) return [];
  if (chance(rng, 0.1)) return Array.from({ length: len - 1 }, (_, i) => i + 1);
  const n = rng.int(Math.min(16, len));
  const out = new Set<number>();
  for (let i = 0; i < n; i++) out.add(1 + rng.int(len - 1));
  return [...out].sort((a, b) => a - b);
}
