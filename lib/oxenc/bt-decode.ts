/**
 * The bt decoder: a bounded explicit stack instead of recursion, so no input can overflow the
 * call stack, and every malformation throws `ERR_OMQ_BT_DECODE` (see bt.ts for the format and
 * the rules). Also the typed accessors for decoded values (btString, btDict, …).
 */
import type { OmqError } from '../errors.js';
import { CH_I, CH_L, CH_D, CH_E, CH_COLON, CH_MINUS, CH_0, INT64_MIN_MAGNITUDE, UINT64_MAX, SAFE_MAX, SAFE_MIN, utf8Fatal, decodeError, btInput, checkDepth, isDigit, type BtValue, type BtDict, type BtDecodeOptions } from './bt.js';
import { compareRanges, latin1String, utf8String } from '../../zmtp/index.js';

/** Read position over `buf[0, end)`; `s0`/`s1` receive the byte range of the last string read. */
export class Cursor {
  s0 = 0;
  s1 = 0;
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}
}

export function truncated(): OmqError {
  return decodeError('bt input truncated');
}

/** Reads `i…e` at `c.pos`; the caller has checked the `i`. */
export function readInteger(c: Cursor): number | bigint {
  const { buf, end } = c;
  let p = c.pos + 1;
  let negative = false;
  if (p < end && buf[p] === CH_MINUS) {
    negative = true;
    p++;
  }
  const digits = p;
  while (p < end && isDigit(buf[p]!)) p++;
  if (p >= end) throw truncated();
  if (p === digits || buf[p] !== CH_E) throw decodeError('bt integer: expected digits then "e"');
  // Leading zeros are legal (oxenc accepts them); skip them before judging the magnitude.
  let s = digits;
  while (s < p - 1 && buf[s] === CH_0) s++;
  const n = p - s;
  c.pos = p + 1;
  if (n <= 15) {
    // < 10^15 < 2^53: exact as a double.
    let v = 0;
    for (let i = s; i < p; i++) v = v * 10 + (buf[i]! - CH_0);
    return negative && v !== 0 ? -v : v; // never produce -0
  }
  // 2^64 − 1 has 20 digits: anything longer is out of range whatever its value.
  if (n > 20) throw decodeError('bt integer out of int64/uint64 range');
  let big = BigInt(latin1String(buf, s, p));
  if (negative) {
    if (big > INT64_MIN_MAGNITUDE) throw decodeError('bt integer below int64 minimum');
    big = -big;
  } else if (big > UINT64_MAX) {
    throw decodeError('bt integer above uint64 maximum');
  }
  return big >= SAFE_MIN && big <= SAFE_MAX ? Number(big) : big;
}

/** Reads `<len>:<bytes>` at `c.pos`, setting `c.s0`/`c.s1` to the bytes' range. */
export function scanString(c: Cursor): void {
  const { buf, end } = c;
  let p = c.pos;
  if (p >= end) throw truncated();
  if (!isDigit(buf[p]!)) throw decodeError('bt: expected a string');
  let len = 0;
  while (p < end && isDigit(buf[p]!)) {
    len = len * 10 + (buf[p]! - CH_0);
    // No input is 2^40 bytes long: stop before the double loses precision.
    if (len > 0xffffffffff) throw decodeError('bt string length overflow');
    p++;
  }
  if (p >= end) throw truncated();
  if (buf[p] !== CH_COLON) throw decodeError('bt string: expected ":" after the length');
  p++;
  if (len > end - p) throw truncated();
  c.s0 = p;
  c.s1 = p + len;
  c.pos = p + len;
}

/** A dict key as a string: ASCII fast path, else strict UTF-8. */
function keyString(buf: Uint8Array, s0: number, s1: number): string {
  for (let i = s0; i < s1; i++) {
    if (buf[i]! >= 0x80) {
      try {
        return utf8Fatal.decode(buf.subarray(s0, s1));
      } catch {
        throw decodeError('bt dict key is not valid UTF-8');
      }
    }
  }
  return latin1String(buf, s0, s1);
}

/** One open list or dict on the explicit parse stack. */
class Frame {
  expectKey: boolean;
  key = '';
  prev0 = -1; // byte range of the previous key, for the ordering check
  prev1 = -1;
  constructor(
    readonly isDict: boolean,
    readonly list: BtValue[] | undefined,
    readonly dict: BtDict | undefined,
  ) {
    this.expectKey = isDict;
  }
}

/**
 * Parses one complete value at `c.pos` and leaves `c.pos` just after it. With `build` false it
 * only validates (used to skip values and to delimit sub-consumers) and returns `undefined`.
 */
export function parseValue(c: Cursor, maxDepth: number, build: boolean): BtValue | undefined {
  const buf = c.buf;
  const stack: Frame[] = [];
  for (;;) {
    if (c.pos >= c.end) throw truncated();
    const b = buf[c.pos]!;
    const top = stack.length > 0 ? stack[stack.length - 1] : undefined;
    let value: BtValue | undefined;

    if (top !== undefined && top.expectKey) {
      if (b === CH_E) {
        c.pos++;
        stack.pop();
        value = top.dict;
      } else {
        if (!isDigit(b)) throw decodeError('bt dict key must be a string');
        scanString(c);
        const { s0, s1 } = c;
        if (top.prev0 >= 0 && compareRanges(buf, s0, s1, buf, top.prev0, top.prev1) <= 0) {
          throw decodeError('bt dict keys not in strictly ascending order');
        }
        top.prev0 = s0;
        top.prev1 = s1;
        if (build) top.key = keyString(buf, s0, s1);
        top.expectKey = false;
        continue;
      }
    } else if (b === CH_I) {
      value = readInteger(c);
    } else if (isDigit(b)) {
      scanString(c);
      if (build) value = buf.subarray(c.s0, c.s1);
    } else if (b === CH_L || b === CH_D) {
      if (stack.length >= maxDepth) throw decodeError('bt nesting too deep');
      const isDict = b === CH_D;
      stack.push(new Frame(isDict, build && !isDict ? [] : undefined, build && isDict ? new Map() : undefined));
      c.pos++;
      continue;
    } else if (b === CH_E && top !== undefined && !top.isDict) {
      c.pos++;
      stack.pop();
      value = top.list;
    } else if (b === CH_E && top !== undefined) {
      throw decodeError('bt dict key without a value');
    } else {
      throw decodeError('bt: unexpected byte where a value was expected');
    }

    // Hand the completed value to its container, or return it if it is the outermost.
    const parent = stack.length > 0 ? stack[stack.length - 1] : undefined;
    if (parent === undefined) return value;
    if (parent.isDict) {
      if (build) parent.dict!.set(parent.key, value!);
      parent.expectKey = true;
    } else if (build) {
      parent.list!.push(value!);
    }
  }
}

/**
 * Decodes one complete bt value occupying all of `bytes`.
 *
 * Strings in the result are views into `bytes`.
 * @throws {OmqError} `ERR_OMQ_BT_DECODE` on any malformed input, including trailing bytes.
 */
export function btDecode(bytes: Uint8Array, options: BtDecodeOptions = {}): BtValue {
  const buf = btInput(bytes);
  const c = new Cursor(buf, 0, buf.length);
  const value = parseValue(c, checkDepth(options.maxDepth), true)!;
  if (c.pos !== buf.length) throw decodeError('bt: trailing bytes after the value');
  return value;
}

/**
 * Decodes the first bt value in `bytes` and reports where it ended, for callers holding several
 * concatenated values.
 * @throws {OmqError} `ERR_OMQ_BT_DECODE` on malformed input.
 */
export function btDecodePrefix(bytes: Uint8Array, options: BtDecodeOptions = {}): { value: BtValue; end: number } {
  const buf = btInput(bytes);
  const c = new Cursor(buf, 0, buf.length);
  const value = parseValue(c, checkDepth(options.maxDepth), true)!;
  return { value, end: c.pos };
}


// =============================================================================================
// Typed accessors for decoded values

function typeName(v: BtValue): string {
  if (typeof v === 'number' || typeof v === 'bigint') return 'integer';
  if (v instanceof Uint8Array) return 'string';
  return Array.isArray(v) ? 'list' : 'dict';
}

function wrongType(v: BtValue, expected: string): OmqError {
  return decodeError(`bt: expected ${expected}, found ${typeName(v)}`);
}

/**
 * A decoded byte string as UTF-8 text.
 * @throws {OmqError} `ERR_OMQ_BT_DECODE` if `v` is not a string.
 */
export function btString(v: BtValue): string {
  if (!(v instanceof Uint8Array)) throw wrongType(v, 'string');
  return utf8String(btInput(v));
}

/**
 * A decoded byte string's bytes.
 * @throws {OmqError} `ERR_OMQ_BT_DECODE` if `v` is not a string.
 */
export function btBytes(v: BtValue): Uint8Array {
  if (!(v instanceof Uint8Array)) throw wrongType(v, 'string');
  return v;
}

/**
 * A decoded integer, `number` or `bigint` as decoded.
 * @throws {OmqError} `ERR_OMQ_BT_DECODE` if `v` is not an integer.
 */
export function btInteger(v: BtValue): number | bigint {
  if (typeof v !== 'number' && typeof v !== 'bigint') throw wrongType(v, 'integer');
  return v;
}

/**
 * A decoded integer as a `number`.
 * @throws {OmqError} `ERR_OMQ_BT_DECODE` if `v` is not an integer within ±(2^53 − 1).
 */
export function btNumber(v: BtValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') throw decodeError('bt integer does not fit a safe JS number');
  throw wrongType(v, 'integer');
}

/**
 * A decoded integer as a `bigint`.
 * @throws {OmqError} `ERR_OMQ_BT_DECODE` if `v` is not an integer.
 */
export function btBigInt(v: BtValue): bigint {
  return BigInt(btInteger(v));
}

/**
 * A decoded list.
 * @throws {OmqError} `ERR_OMQ_BT_DECODE` if `v` is not a list.
 */
export function btList(v: BtValue): BtValue[] {
  if (!Array.isArray(v)) throw wrongType(v, 'list');
  return v;
}

/**
 * A decoded dict.
 * @throws {OmqError} `ERR_OMQ_BT_DECODE` if `v` is not a dict.
 */
export function btDict(v: BtValue): BtDict {
  if (!(v instanceof Map)) throw wrongType(v, 'dict');
  return v;
}

