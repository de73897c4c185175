/**
 * bt-encoding (the BitTorrent bencode subset of oxen-encoding) — PROTOCOL.md §7.4.
 *
 *   integer  `i` [`-`] digits `e`, within int64 (negative) or uint64 (positive); booleans are i0e/i1e
 *   string   `<decimal length>:<bytes>` (binary-safe)
 *   list     `l` … `e`
 *   dict     `d` (string key, value)* `e`, keys strictly ascending in raw byte order
 *
 * OxenMQ uses it inside the process (ZAP domain, control messages) and oxend in RPC bodies, so
 * the decoder treats its input as hostile: every malformation — truncation, bad integer syntax,
 * out-of-range integers, a length running past the end, trailing bytes, dict keys out of order or
 * repeated, nesting deeper than {@link BT_MAX_DEPTH} — throws {@link OmqError} with code
 * `ERR_OMQ_BT_DECODE`, and parsing never recurses (an explicit, bounded stack instead), so no
 * input can overflow the call stack. Like oxenc, leading zeros and `-0` in integers are accepted.
 *
 * Decoded values: integers are `number` when within ±(2^53 − 1) and `bigint` beyond; strings are
 * `Buffer` views into the input (no copy — copy them if the input buffer will be reused); lists
 * are arrays; dicts are `Map<string, BtValue>` in wire order. Dict keys are strings: `btDecode`
 * requires them to be valid UTF-8 (they are ASCII everywhere OxenMQ and oxend use them), so that
 * decode → encode reproduces the input; the streaming {@link BtDictConsumer} accepts any key
 * bytes and exposes them through {@link BtDictConsumer.keyBytes}.
 */
import { OmqError, OmqErrorCode } from './errors.js';

/** A decoded bt value. */
export type BtValue = number | bigint | Uint8Array | BtValue[] | BtDict;

/** A decoded bt dict: string keys in (ascending) wire order. */
export type BtDict = Map<string, BtValue>;

/**
 * What {@link btEncode} accepts: safe-integer numbers, bigints in int64/uint64 range, booleans,
 * strings (UTF-8), byte arrays, arrays, Maps with string or byte-array keys, and plain objects.
 * `undefined` dict values are skipped (as JSON.stringify does); anywhere else they are an error.
 */
export type BtEncodable =
  | number
  | bigint
  | boolean
  | string
  | Uint8Array
  | readonly BtEncodable[]
  | ReadonlyMap<string | Uint8Array, BtEncodable | undefined>
  | { readonly [key: string]: BtEncodable | undefined };

/** Default limit on nested lists/dicts, in both directions (the outermost container is level 1). */
export const BT_MAX_DEPTH = 64;

/** Options of the decoder and the streaming consumers. */
export interface BtDecodeOptions {
  /** Maximum nesting of lists and dicts (default {@link BT_MAX_DEPTH}). */
  maxDepth?: number;
}

/** Options of {@link btEncode}. */
export interface BtEncodeOptions {
  /** Maximum nesting of lists and dicts (default {@link BT_MAX_DEPTH}); also stops cycles. */
  maxDepth?: number;
}

const CH_I = 0x69;
const CH_L = 0x6c;
const CH_D = 0x64;
const CH_E = 0x65;
const CH_COLON = 0x3a;
const CH_MINUS = 0x2d;
const CH_0 = 0x30;
const CH_9 = 0x39;

const INT64_MIN_MAGNITUDE = 1n << 63n;
const UINT64_MAX = (1n << 64n) - 1n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const SAFE_MIN = -SAFE_MAX;

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

function decodeError(message: string): OmqError {
  return new OmqError(OmqErrorCode.BT_DECODE, message);
}

function encodeError(message: string): OmqError {
  return new OmqError(OmqErrorCode.BT_ENCODE, message);
}

function asBuffer(bytes: Uint8Array): Buffer {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bt input must be a Uint8Array');
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkDepth(maxDepth: number | undefined): number {
  const d = maxDepth ?? BT_MAX_DEPTH;
  if (!Number.isInteger(d) || d < 0) throw new TypeError('maxDepth must be a non-negative integer');
  return d;
}

function isDigit(b: number): boolean {
  return b >= CH_0 && b <= CH_9;
}

// =============================================================================================
// Decoding primitives over a cursor: each reads one token at `pos` and leaves `pos` after it.

/** Read position over `buf[0, end)`; `s0`/`s1` receive the byte range of the last string read. */
class Cursor {
  s0 = 0;
  s1 = 0;
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}
}

function truncated(): OmqError {
  return decodeError('bt input truncated');
}

/** Reads `i…e` at `c.pos`; the caller has checked the `i`. */
function readInteger(c: Cursor): number | bigint {
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
  let big = BigInt(buf.toString('latin1', s, p));
  if (negative) {
    if (big > INT64_MIN_MAGNITUDE) throw decodeError('bt integer below int64 minimum');
    big = -big;
  } else if (big > UINT64_MAX) {
    throw decodeError('bt integer above uint64 maximum');
  }
  return big >= SAFE_MIN && big <= SAFE_MAX ? Number(big) : big;
}

/** Reads `<len>:<bytes>` at `c.pos`, setting `c.s0`/`c.s1` to the bytes' range. */
function scanString(c: Cursor): void {
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
function keyString(buf: Buffer, s0: number, s1: number): string {
  for (let i = s0; i < s1; i++) {
    if (buf[i]! >= 0x80) {
      try {
        return utf8Fatal.decode(buf.subarray(s0, s1));
      } catch {
        throw decodeError('bt dict key is not valid UTF-8');
      }
    }
  }
  return buf.toString('latin1', s0, s1);
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
function parseValue(c: Cursor, maxDepth: number, build: boolean): BtValue | undefined {
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
        if (top.prev0 >= 0 && buf.compare(buf, top.prev0, top.prev1, s0, s1) <= 0) {
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
  const buf = asBuffer(bytes);
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
  const buf = asBuffer(bytes);
  const c = new Cursor(buf, 0, buf.length);
  const value = parseValue(c, checkDepth(options.maxDepth), true)!;
  return { value, end: c.pos };
}

// =============================================================================================
// Encoding

/** An append-only byte buffer that doubles when full. */
class Writer {
  buf = Buffer.allocUnsafe(256);
  len = 0;

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  /** Writes an ASCII-only string (lengths, integers). */
  ascii(s: string): void {
    this.reserve(s.length);
    this.len += this.buf.write(s, this.len, 'latin1');
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** `<len>:<utf8>` for a JS string. */
  utf8String(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.ascii(n + ':');
    this.reserve(n);
    this.len += this.buf.write(s, this.len, n, 'utf8');
  }
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

type DictEntry = [key: Buffer, value: unknown];

function encodeDict(w: Writer, entries: DictEntry[], depth: number, maxDepth: number): void {
  entries.sort((a, b) => Buffer.compare(a[0], b[0]));
  w.byte(CH_D);
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i]!;
    if (i > 0 && Buffer.compare(entries[i - 1]![0], k) === 0) throw encodeError('duplicate dict key');
    w.ascii(k.length + ':');
    w.bytes(k);
    encodeValue(w, v, depth, maxDepth);
  }
  w.byte(CH_E);
}

function encodeValue(w: Writer, v: unknown, depth: number, maxDepth: number): void {
  switch (typeof v) {
    case 'number':
      if (!Number.isSafeInteger(v)) throw encodeError('bt can only encode safe integers (use bigint beyond 2^53)');
      w.ascii('i' + v + 'e'); // String(-0) is "0"
      return;
    case 'bigint':
      if (v < -INT64_MIN_MAGNITUDE || v > UINT64_MAX) throw encodeError('bt integer outside int64/uint64 range');
      w.ascii('i' + v + 'e');
      return;
    case 'boolean':
      w.ascii(v ? 'i1e' : 'i0e');
      return;
    case 'string':
      w.utf8String(v);
      return;
    case 'object': {
      if (v === null) break;
      if (v instanceof Uint8Array) {
        w.ascii(v.length + ':');
        w.bytes(v);
        return;
      }
      if (depth >= maxDepth) throw encodeError('bt nesting too deep (or a cycle)');
      if (Array.isArray(v)) {
        w.byte(CH_L);
        for (const item of v as unknown[]) encodeValue(w, item, depth + 1, maxDepth);
        w.byte(CH_E);
        return;
      }
      const entries: DictEntry[] = [];
      if (v instanceof Map) {
        for (const [k, item] of v as Map<unknown, unknown>) {
          if (item === undefined) continue;
          if (typeof k === 'string') entries.push([Buffer.from(k, 'utf8'), item]);
          else if (k instanceof Uint8Array) entries.push([asBuffer(k), item]);
          else throw encodeError('bt dict keys must be strings or Uint8Arrays');
        }
      } else if (isPlainObject(v)) {
        for (const k of Object.keys(v)) {
          const item = v[k];
          if (item !== undefined) entries.push([Buffer.from(k, 'utf8'), item]);
        }
      } else {
        break;
      }
      encodeDict(w, entries, depth + 1, maxDepth);
      return;
    }
  }
  throw encodeError(`bt cannot encode a value of type ${v === null ? 'null' : typeof v}`);
}

/**
 * bt-encodes `value`. Dict keys are written sorted by raw byte order (of their UTF-8 form for
 * strings); two keys with the same bytes are an error.
 * @throws {OmqError} `ERR_OMQ_BT_ENCODE` for unsupported values (null, undefined outside a dict,
 *   non-integer or unsafe numbers, bigints outside int64/uint64, class instances other than
 *   Uint8Array/Map), duplicate keys, or nesting deeper than `maxDepth`.
 */
export function btEncode(value: BtEncodable, options: BtEncodeOptions = {}): Buffer {
  const w = new Writer();
  encodeValue(w, value, 0, checkDepth(options.maxDepth));
  return w.buf.subarray(0, w.len);
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
  return asBuffer(v).toString('utf8');
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

// =============================================================================================
// Streaming consumers (oxenc's bt_list_consumer / bt_dict_consumer)

/**
 * Shared machinery of the consumers: each consume* reads the value at {@link valueStart} and
 * then calls {@link advance} with the position after it.
 *
 * Consumers validate lazily, as they go: a malformed element throws when reached, and bytes after
 * the closing `e` of a top-level consumer are not examined.
 */
abstract class BtConsumer {
  protected readonly buf: Buffer;
  protected readonly maxDepth: number;
  protected readonly cursor: Cursor;

  protected constructor(data: Uint8Array, opener: number, what: string, options: BtDecodeOptions) {
    this.buf = asBuffer(data);
    this.maxDepth = checkDepth(options.maxDepth);
    if (this.buf.length === 0) throw truncated();
    if (this.buf[0] !== opener) throw decodeError(`bt: expected a ${what}`);
    this.cursor = new Cursor(this.buf, 1, this.buf.length);
  }

  /** Position of the next value to consume; throws if there is none. */
  protected abstract valueStart(): number;
  /** Records that the value at {@link valueStart} has been consumed, ending at `pos`. */
  protected abstract advance(pos: number): void;

  /** True once every element has been consumed (the next byte is the closing `e`). */
  abstract isFinished(): boolean;

  private peek(): number {
    return this.buf[this.valueStart()]!;
  }

  /** True if the next value is a byte string. */
  isString(): boolean {
    return !this.isFinished() && isDigit(this.peek());
  }

  /** True if the next value is an integer. */
  isInteger(): boolean {
    return !this.isFinished() && this.peek() === CH_I;
  }

  /** True if the next value is a negative integer. */
  isNegativeInteger(): boolean {
    if (!this.isInteger()) return false;
    const p = this.valueStart() + 1;
    return p < this.cursor.end && this.buf[p] === CH_MINUS;
  }

  /** True if the next value is a list. */
  isList(): boolean {
    return !this.isFinished() && this.peek() === CH_L;
  }

  /** True if the next value is a dict. */
  isDict(): boolean {
    return !this.isFinished() && this.peek() === CH_D;
  }

  private at(expected: number, what: string): Cursor {
    const start = this.valueStart();
    const b = this.buf[start]!;
    if (expected === CH_0 ? !isDigit(b) : b !== expected) throw decodeError(`bt: expected ${what}`);
    this.cursor.pos = start;
    return this.cursor;
  }

  /**
   * Consumes an integer: `number` within ±(2^53 − 1), else `bigint`.
   * @throws {OmqError} `ERR_OMQ_BT_DECODE` if the next value is not a valid integer.
   */
  consumeInteger(): number | bigint {
    const c = this.at(CH_I, 'an integer');
    const v = readInteger(c);
    this.advance(c.pos);
    return v;
  }

  /**
   * Consumes an integer that must fit a safe JS number.
   * @throws {OmqError} `ERR_OMQ_BT_DECODE` otherwise (without consuming it).
   */
  consumeNumber(): number {
    const c = this.at(CH_I, 'an integer');
    const v = readInteger(c);
    // Checked before advancing, so the caller can still take it with consumeBigInt().
    if (typeof v !== 'number') throw decodeError('bt integer does not fit a safe JS number');
    this.advance(c.pos);
    return v;
  }

  /** Consumes an integer as a bigint. @throws {OmqError} `ERR_OMQ_BT_DECODE` if not an integer. */
  consumeBigInt(): bigint {
    return BigInt(this.consumeInteger());
  }

  /**
   * Consumes a byte string, returned as a view into the input.
   * @throws {OmqError} `ERR_OMQ_BT_DECODE` if the next value is not a valid string.
   */
  consumeString(): Buffer {
    const c = this.at(CH_0, 'a string');
    scanString(c);
    this.advance(c.pos);
    return this.buf.subarray(c.s0, c.s1);
  }

  /** Consumes a byte string as UTF-8 text. @throws {OmqError} `ERR_OMQ_BT_DECODE` if not a string. */
  consumeStringUtf8(): string {
    return this.consumeString().toString('utf8');
  }

  /** Consumes and fully decodes a list. @throws {OmqError} `ERR_OMQ_BT_DECODE` if malformed. */
  consumeList(): BtValue[] {
    const c = this.at(CH_L, 'a list');
    const v = parseValue(c, this.maxDepth, true) as BtValue[];
    this.advance(c.pos);
    return v;
  }

  /** Consumes and fully decodes a dict. @throws {OmqError} `ERR_OMQ_BT_DECODE` if malformed. */
  consumeDict(): BtDict {
    const c = this.at(CH_D, 'a dict');
    const v = parseValue(c, this.maxDepth, true) as BtDict;
    this.advance(c.pos);
    return v;
  }

  /** Consumes and fully decodes the next value, whatever its type. */
  consumeValue(): BtValue {
    const c = this.cursor;
    c.pos = this.valueStart();
    const v = parseValue(c, this.maxDepth, true)!;
    this.advance(c.pos);
    return v;
  }

  /** Skips the next value (validating it). */
  skipValue(): void {
    const c = this.cursor;
    c.pos = this.valueStart();
    parseValue(c, this.maxDepth, false);
    this.advance(c.pos);
  }

  /** Consumes the next value and returns its raw encoding (a view), e.g. to forward it as is. */
  consumeRaw(): Buffer {
    const start = this.valueStart();
    this.skipValue();
    return this.buf.subarray(start, this.cursor.pos);
  }

  /**
   * Consumes a nested list and returns a consumer over it. The nested list is validated in full
   * first, to find where it ends.
   */
  consumeListConsumer(): BtListConsumer {
    const start = this.at(CH_L, 'a list').pos;
    parseValue(this.cursor, this.maxDepth, false);
    const end = this.cursor.pos;
    this.advance(end);
    return new BtListConsumer(this.buf.subarray(start, end), { maxDepth: this.maxDepth });
  }

  /** Consumes a nested dict and returns a consumer over it (validated in full first). */
  consumeDictConsumer(): BtDictConsumer {
    const start = this.at(CH_D, 'a dict').pos;
    parseValue(this.cursor, this.maxDepth, false);
    const end = this.cursor.pos;
    this.advance(end);
    return new BtDictConsumer(this.buf.subarray(start, end), { maxDepth: this.maxDepth });
  }
}

/**
 * Reads a bt list element by element without building it, as oxend's RPC handlers do:
 *
 * ```ts
 * const l = new BtListConsumer(bytes);
 * const height = l.consumeNumber();
 * const hash = l.consumeString();
 * if (!l.isFinished()) ...
 * ```
 */
export class BtListConsumer extends BtConsumer {
  private pos = 1;

  /**
   * @param data an encoded list (`l…e`); bytes after its end are ignored.
   * @throws {OmqError} `ERR_OMQ_BT_DECODE` unless `data` starts with `l`.
   */
  constructor(data: Uint8Array, options: BtDecodeOptions = {}) {
    super(data, CH_L, 'list', options);
  }

  /** True once the closing `e` is next. @throws {OmqError} `ERR_OMQ_BT_DECODE` if truncated. */
  isFinished(): boolean {
    if (this.pos >= this.buf.length) throw truncated();
    return this.buf[this.pos] === CH_E;
  }

  protected valueStart(): number {
    if (this.isFinished()) throw decodeError('bt: list has no more elements');
    return this.pos;
  }

  protected advance(pos: number): void {
    this.pos = pos;
  }
}

/**
 * Reads a bt dict key by key in ascending order without building it. Each consume* reads the
 * value of the current {@link key} and moves to the next key; {@link skipUntil} skips forward to
 * a wanted key, which is how optional fields are read:
 *
 * ```ts
 * const d = new BtDictConsumer(bytes);
 * const height = d.skipUntil('height') ? d.consumeNumber() : undefined;
 * const txs = d.skipUntil('txs') ? d.consumeListConsumer() : undefined;
 * ```
 *
 * Keys must be strictly ascending; a key out of order throws when it is reached.
 */
export class BtDictConsumer extends BtConsumer {
  private pos = 1; // at the next key, or the closing 'e'
  private loaded = false; // the key at `pos` has been read
  private finished = false;
  private k0 = 0; // current key's byte range
  private k1 = 0;
  private valPos = 0; // where the current key's value starts
  private prev0 = -1; // previous key's byte range, for the ordering check
  private prev1 = -1;

  /**
   * @param data an encoded dict (`d…e`); bytes after its end are ignored.
   * @throws {OmqError} `ERR_OMQ_BT_DECODE` unless `data` starts with `d`.
   */
  constructor(data: Uint8Array, options: BtDecodeOptions = {}) {
    super(data, CH_D, 'dict', options);
  }

  private load(): void {
    if (this.loaded) return;
    const buf = this.buf;
    if (this.pos >= buf.length) throw truncated();
    if (buf[this.pos] === CH_E) {
      this.finished = true;
    } else {
      const c = this.cursor;
      c.pos = this.pos;
      if (!isDigit(buf[c.pos]!)) throw decodeError('bt dict key must be a string');
      scanString(c);
      if (this.prev0 >= 0 && buf.compare(buf, this.prev0, this.prev1, c.s0, c.s1) <= 0) {
        throw decodeError('bt dict keys not in strictly ascending order');
      }
      this.k0 = c.s0;
      this.k1 = c.s1;
      this.valPos = c.pos;
      if (this.valPos >= buf.length) throw truncated();
    }
    this.loaded = true;
  }

  /** True once every key has been consumed. @throws {OmqError} `ERR_OMQ_BT_DECODE` if malformed. */
  isFinished(): boolean {
    this.load();
    return this.finished;
  }

  /**
   * The current key as text (UTF-8).
   * @throws {OmqError} `ERR_OMQ_BT_DECODE` if the dict is finished or malformed.
   */
  key(): string {
    return this.keyBytes().toString('utf8');
  }

  /** The current key's raw bytes (a view). @throws {OmqError} `ERR_OMQ_BT_DECODE` if finished. */
  keyBytes(): Buffer {
    this.load();
    if (this.finished) throw decodeError('bt: dict has no more keys');
    return this.buf.subarray(this.k0, this.k1);
  }

  /**
   * Skips entries whose key sorts before `key`. Returns true if positioned on `key` (its value
   * is next to consume), false if the dict has no such key (positioned on the next larger key,
   * or finished).
   */
  skipUntil(key: string | Uint8Array): boolean {
    const want = typeof key === 'string' ? Buffer.from(key, 'utf8') : asBuffer(key);
    for (;;) {
      if (this.isFinished()) return false;
      const cmp = this.buf.compare(want, 0, want.length, this.k0, this.k1);
      if (cmp === 0) return true;
      if (cmp > 0) return false;
      this.skipValue();
    }
  }

  protected valueStart(): number {
    this.load();
    if (this.finished) throw decodeError('bt: dict has no more values');
    return this.valPos;
  }

  protected advance(pos: number): void {
    this.prev0 = this.k0;
    this.prev1 = this.k1;
    this.pos = pos;
    this.loaded = false;
  }
}
