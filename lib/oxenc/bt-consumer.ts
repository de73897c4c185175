/**
 * Streaming bt consumers (oxenc's `bt_list_consumer` / `bt_dict_consumer`): walk a list or dict
 * element by element without building the whole value, validating as they go.
 */
import type { OmqError } from '../errors.js';
import { CH_I, CH_L, CH_D, CH_E, CH_MINUS, CH_0, decodeError, btInput, checkDepth, isDigit, type BtValue, type BtDict, type BtDecodeOptions } from './bt.js';
import { Cursor, parseValue, readInteger, scanString, truncated } from './bt-decode.js';
import { compareRanges, utf8Bytes, utf8String } from '../../zmtp/index.js';

/**
 * Shared machinery of the consumers: each consume* reads the value at {@link valueStart} and
 * then calls {@link advance} with the position after it.
 *
 * Consumers validate lazily, as they go: a malformed element throws when reached, and bytes after
 * the closing `e` of a top-level consumer are not examined.
 */
abstract class BtConsumer {
  protected readonly buf: Uint8Array;
  protected readonly maxDepth: number;
  protected readonly cursor: Cursor;

  protected constructor(data: Uint8Array, opener: number, what: string, options: BtDecodeOptions) {
    this.buf = btInput(data);
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
  consumeString(): Uint8Array {
    const c = this.at(CH_0, 'a string');
    scanString(c);
    this.advance(c.pos);
    return this.buf.subarray(c.s0, c.s1);
  }

  /** Consumes a byte string as UTF-8 text. @throws {OmqError} `ERR_OMQ_BT_DECODE` if not a string. */
  consumeStringUtf8(): string {
    return utf8String(this.consumeString());
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
  consumeRaw(): Uint8Array {
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
      if (this.prev0 >= 0 && compareRanges(buf, c.s0, c.s1, buf, this.prev0, this.prev1) <= 0) {
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
    return utf8String(this.keyBytes());
  }

  /** The current key's raw bytes (a view). @throws {OmqError} `ERR_OMQ_BT_DECODE` if finished. */
  keyBytes(): Uint8Array {
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
    const want = typeof key === 'string' ? utf8Bytes(key) : btInput(key);
    for (;;) {
      if (this.isFinished()) return false;
      const cmp = compareRanges(this.buf, this.k0, this.k1, want, 0, want.length);
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

