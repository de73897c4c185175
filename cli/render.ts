/**
 * How message parts are shown: as received (text), hex, JSON, or pretty-printed bt-encoding
 * (the oxen-encoding of oxenc `bt_serialize.h`: integers, byte strings, lists, dicts).
 *
 * Bytes a peer sent reach the terminal only where the user asked for them as they are
 * (`request` in text format, meant for piping); every other rendering escapes them, so a peer
 * cannot write control sequences into a log.
 */
import { type BtValue, btDecode, toHex } from '../lib/oxenc/index.js';
import type { Format } from './args.js';

// fatal: invalid UTF-8 must be told apart, not replaced; ignoreBOM: a leading U+FEFF is content.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Control characters other than tab, newline and carriage return. */
const CONTROL = /[^\P{Cc}\t\n\r]/u;

/** The part as text if it is valid UTF-8, else undefined. */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A part in the JSON output: its text when it is valid UTF-8, else `{ "hex": … }`. */
export type JsonPart = string | { hex: string };

/** The JSON form of one part. */
export function jsonPart(bytes: Uint8Array): JsonPart {
  return utf8Text(bytes) ?? { hex: toHex(bytes) };
}

/**
 * A byte string as one token on one line: JSON-quoted text when it is valid UTF-8 without
 * control characters (tab, newline and carriage return are allowed, escaped), else `0x` + hex.
 */
export function byteString(bytes: Uint8Array): string {
  const text = utf8Text(bytes);
  return text !== undefined && !CONTROL.test(text) ? JSON.stringify(text) : '0x' + toHex(bytes);
}

/**
 * A decoded bt value, one element per line, nested `indent` deep: integers in decimal, byte
 * strings as {@link byteString}, lists `[…]`, dicts `{"key": …}` in their (sorted) wire order.
 */
export function renderBt(value: BtValue, indent = ''): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value instanceof Uint8Array) return byteString(value);
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + renderBt(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value.size === 0) return '{}';
  const entries = [...value].map(([k, v]) => `${inner}${JSON.stringify(k)}: ${renderBt(v, inner)}`);
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

/** One part in the bt format: decoded and pretty-printed, or marked when it is not bt-encoded. */
export function btPart(bytes: Uint8Array, indent = ''): string {
  let value: BtValue;
  try {
    value = btDecode(bytes);
  } catch {
    return `${byteString(bytes)}  # not bt-encoded`;
  }
  return renderBt(value, indent);
}

/**
 * A reply as `request` prints it: text — each part's bytes as they are, then a newline; hex —
 * one line of hex per part; json — one array of {@link JsonPart}s; bt — each part pretty-printed.
 */
export function renderReply(parts: readonly Uint8Array[], format: Format): Buffer {
  switch (format) {
    case 'text':
      return Buffer.concat(parts.flatMap((p) => [p, NEWLINE]));
    case 'hex':
      return Buffer.from(parts.map((p) => toHex(p) + '\n').join(''));
    case 'json':
      return Buffer.from(JSON.stringify(parts.map(jsonPart)) + '\n');
    case 'bt':
      return Buffer.from(parts.map((p) => btPart(p) + '\n').join(''));
  }
}

const NEWLINE = Buffer.from('\n');

/**
 * One part of a logged message, escaped, for the given format (not json, which logs whole
 * messages): text — {@link byteString}; hex — plain hex; bt — {@link btPart}.
 */
export function logPart(bytes: Uint8Array, format: Exclude<Format, 'json'>, indent: string): string {
  switch (format) {
    case 'text':
      return byteString(bytes);
    case 'hex':
      return toHex(bytes);
    case 'bt':
      return btPart(bytes, indent);
  }
}
