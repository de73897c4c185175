/**
 * The bt encoder: values (see {@link BtEncodable}) into one growing buffer, dict keys sorted by
 * their raw bytes and checked unique, nesting bounded (which also stops cycles).
 */
import type { OmqError } from '../errors.js';
import { CH_L, CH_D, CH_E, INT64_MIN_MAGNITUDE, UINT64_MAX, encodeError, btInput, checkDepth, type BtEncodable, type BtEncodeOptions } from './bt.js';
import { compareBytes, newBytes, utf8Bytes, utf8Length, writeLatin1, writeUtf8 } from '../../zmtp/index.js';

/** An append-only byte buffer that doubles when full. */
class Writer {
  buf = newBytes(256);
  len = 0;

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = newBytes(size);
    next.set(this.buf.subarray(0, this.len), 0);
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  /** Writes an ASCII-only string (lengths, integers). */
  ascii(s: string): void {
    this.reserve(s.length);
    this.len += writeLatin1(s, this.buf, this.len);
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** `<len>:<utf8>` for a JS string. */
  utf8String(s: string): void {
    const n = utf8Length(s);
    this.ascii(n + ':');
    this.reserve(n);
    this.len += writeUtf8(s, this.buf, this.len);
  }
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

type DictEntry = [key: Uint8Array, value: unknown];

function encodeDict(w: Writer, entries: DictEntry[], depth: number, maxDepth: number): void {
  entries.sort((a, b) => compareBytes(a[0], b[0]));
  w.byte(CH_D);
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i]!;
    if (i > 0 && compareBytes(entries[i - 1]![0], k) === 0) throw encodeError('duplicate dict key');
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
          if (typeof k === 'string') entries.push([utf8Bytes(k), item]);
          else if (k instanceof Uint8Array) entries.push([btInput(k), item]);
          else throw encodeError('bt dict keys must be strings or Uint8Arrays');
        }
      } else if (isPlainObject(v)) {
        for (const k of Object.keys(v)) {
          const item = v[k];
          if (item !== undefined) entries.push([utf8Bytes(k), item]);
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
export function btEncode(value: BtEncodable, options: BtEncodeOptions = {}): Uint8Array {
  const w = new Writer();
  encodeValue(w, value, 0, checkDepth(options.maxDepth));
  return w.buf.subarray(0, w.len);
}

