/**
 * ZMTP command bodies (RFC 37 §"Commands"): `name_len:u8 ‖ name ‖ data`.
 */
import { latin1Bytes, latin1String, newBytes, writeLatin1 } from './bytes.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';

/** Builds a command body: the length-prefixed ASCII name followed by `data`. */
export function encodeCommand(name: string, data?: Uint8Array): Uint8Array {
  const dataLen = data ? data.length : 0;
  const out = newBytes(1 + name.length + dataLen);
  out[0] = name.length;
  writeLatin1(name, out, 1);
  if (data) out.set(data, 1 + name.length);
  return out;
}

/**
 * The name of a command body, or throws MALFORMED_COMMAND when the name length runs past the end
 * of the body or is zero.
 */
export function commandName(body: Uint8Array): string {
  const n = body.length > 0 ? body[0]! : 0;
  if (n === 0 || n + 1 > body.length) {
    throw new ZmtpError(ZmtpErrorCode.MALFORMED_COMMAND, 'command frame has an invalid name length');
  }
  return latin1String(body, 1, 1 + n);
}

/** True when `body` is a command named `name` (compared byte for byte, no allocation). */
export function isCommand(body: Uint8Array, name: string): boolean {
  if (body.length < name.length + 1 || body[0] !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (body[i + 1] !== name.charCodeAt(i)) return false;
  return true;
}

/** The data part of a command body (a view, not a copy). */
export function commandData(body: Uint8Array): Uint8Array {
  return body.subarray(1 + body[0]!);
}

/** ERROR command body: `05 "ERROR" ‖ u8 len ‖ reason` (reason at most 255 bytes). */
export function encodeError(reason: string): Uint8Array {
  const r = latin1Bytes(reason).subarray(0, 255);
  const data = newBytes(1 + r.length);
  data[0] = r.length;
  data.set(r, 1);
  return encodeCommand('ERROR', data);
}

/** Parses the reason of an ERROR command's data; a truncated reason is a MALFORMED_COMMAND. */
export function decodeErrorReason(data: Uint8Array): string {
  if (data.length < 1 || data[0]! + 1 > data.length) {
    throw new ZmtpError(ZmtpErrorCode.MALFORMED_COMMAND, 'ERROR command has an invalid reason length');
  }
  return latin1String(data, 1, Math.min(data.length, 1 + data[0]!));
}
