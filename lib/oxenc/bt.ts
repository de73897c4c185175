/**
 * bt-encoding, the BitTorrent bencode subset of oxen-encoding (`oxenc/bt_serialize.h`,
 * `oxenc/bt_producer.h`): the format, the value types and what decoder, encoder and consumers
 * share.
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
import { OmqError, OmqErrorCode } from '../errors.js';

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

export const CH_I = 0x69;
export const CH_L = 0x6c;
export const CH_D = 0x64;
export const CH_E = 0x65;
export const CH_COLON = 0x3a;
export const CH_MINUS = 0x2d;
export const CH_0 = 0x30;
export const CH_9 = 0x39;

export const INT64_MIN_MAGNITUDE = 1n << 63n;
export const UINT64_MAX = (1n << 64n) - 1n;
export const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
export const SAFE_MIN = -SAFE_MAX;

export const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

export function decodeError(message: string): OmqError {
  return new OmqError(OmqErrorCode.BT_DECODE, message);
}

export function encodeError(message: string): OmqError {
  return new OmqError(OmqErrorCode.BT_ENCODE, message);
}

/** A caller's bt input, refusing anything that is not bytes. */
export function btInput(bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bt input must be a Uint8Array');
  return bytes;
}

export function checkDepth(maxDepth: number | undefined): number {
  const d = maxDepth ?? BT_MAX_DEPTH;
  if (!Number.isInteger(d) || d < 0) throw new TypeError('maxDepth must be a non-negative integer');
  return d;
}

export function isDigit(b: number): boolean {
  return b >= CH_0 && b <= CH_9;
}

