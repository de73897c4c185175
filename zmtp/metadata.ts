/**
 * The ZMTP metadata property list (RFC 37 §"Connection Metadata", encoded as in §"The NULL Security
 * Mechanism"; RFC 26 §"The INITIATE Command" for CURVE):
 * `repeat: name_len:u8 ‖ name ‖ value_len:u32be ‖ value`, carried by READY and INITIATE.
 */
import { ZmtpError, ZmtpErrorCode } from './errors.js';

/** Peer metadata: property names lower-cased (ZMTP names are case-insensitive), values as views. */
export type Metadata = Map<string, Buffer>;

/** Encodes properties in the given order. Names are ASCII of 1–255 bytes. */
export function encodeMetadata(props: ReadonlyArray<readonly [string, Uint8Array]>): Buffer {
  let len = 0;
  for (const [name, value] of props) len += 1 + name.length + 4 + value.length;
  const out = Buffer.allocUnsafe(len);
  let o = 0;
  for (const [name, value] of props) {
    out[o++] = name.length;
    o += out.write(name, o, 'latin1');
    out.writeUInt32BE(value.length, o);
    o += 4;
    out.set(value, o);
    o += value.length;
  }
  return out;
}

/**
 * Decodes a property list. Throws MALFORMED_COMMAND when a name or value runs past the end, or a
 * name is empty. Duplicate names: the last one wins, as in libzmq.
 */
export function decodeMetadata(data: Buffer): Metadata {
  const props: Metadata = new Map();
  let o = 0;
  while (o < data.length) {
    const nameLen = data[o]!;
    if (nameLen === 0 || o + 1 + nameLen + 4 > data.length) {
      throw new ZmtpError(ZmtpErrorCode.MALFORMED_COMMAND, 'metadata property name is malformed');
    }
    const name = data.toString('latin1', o + 1, o + 1 + nameLen).toLowerCase();
    o += 1 + nameLen;
    const valueLen = data.readUInt32BE(o);
    o += 4;
    if (valueLen > data.length - o) {
      throw new ZmtpError(ZmtpErrorCode.MALFORMED_COMMAND, 'metadata property value runs past the command');
    }
    props.set(name, data.subarray(o, o + valueLen));
    o += valueLen;
  }
  return props;
}
