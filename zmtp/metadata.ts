/**
 * The ZMTP metadata property list (RFC 37 §"Connection Metadata", encoded as in §"The NULL Security
 * Mechanism"; RFC 26 §"The INITIATE Command" for CURVE):
 * `repeat: name_len:u8 ‖ name ‖ value_len:u32be ‖ value`, carried by READY and INITIATE.
 */
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import { latin1String, newBytes, readU32BE, writeLatin1, writeU32BE } from './bytes.js';

/** Peer metadata: property names lower-cased (ZMTP names are case-insensitive), values as views. */
export type Metadata = Map<string, Uint8Array>;

/** Encodes properties in the given order. Names are ASCII of 1–255 bytes. */
export function encodeMetadata(props: ReadonlyArray<readonly [string, Uint8Array]>): Uint8Array {
  let len = 0;
  for (const [name, value] of props) len += 1 + name.length + 4 + value.length;
  const out = newBytes(len);
  let o = 0;
  for (const [name, value] of props) {
    out[o++] = name.length;
    o += writeLatin1(name, out, o);
    writeU32BE(out, value.length, o);
    o += 4;
    out.set(value, o);
    o += value.length;
  }
  return out;
}

/**
 * Most properties a peer's READY or INITIATE may carry. libzmq keeps any number
 * (`src/mechanism.cpp`, `parse_metadata`); we cap the count because each property costs a Map
 * entry, a name string and a Buffer view (about 200 bytes) whatever its wire size (5 bytes at
 * least), and the map lives as long as the connection: 130,000 empty properties held 12.5× their
 * wire size. With this cap what is held is the command's bytes (the values are views of them)
 * plus at most 64 entries. Peers send 2 (`Socket-Type`, `Identity`) or a few more.
 */
export const MAX_METADATA_PROPERTIES = 64;

/**
 * Decodes a property list. Throws MALFORMED_COMMAND when a name or value runs past the end, or a
 * name is empty, and METADATA_LIMIT past {@link MAX_METADATA_PROPERTIES} properties (duplicates
 * included). Duplicate names: the last one wins, as in libzmq.
 */
export function decodeMetadata(data: Uint8Array): Metadata {
  const props: Metadata = new Map();
  let o = 0;
  let count = 0;
  while (o < data.length) {
    if (++count > MAX_METADATA_PROPERTIES) {
      throw new ZmtpError(ZmtpErrorCode.METADATA_LIMIT, `metadata has more than ${MAX_METADATA_PROPERTIES} properties`);
    }
    const nameLen = data[o]!;
    if (nameLen === 0 || o + 1 + nameLen + 4 > data.length) {
      throw new ZmtpError(ZmtpErrorCode.MALFORMED_COMMAND, 'metadata property name is malformed');
    }
    const name = latin1String(data, o + 1, o + 1 + nameLen).toLowerCase();
    o += 1 + nameLen;
    const valueLen = readU32BE(data, o);
    o += 4;
    if (valueLen > data.length - o) {
      throw new ZmtpError(ZmtpErrorCode.MALFORMED_COMMAND, 'metadata property value runs past the command');
    }
    props.set(name, data.subarray(o, o + valueLen));
    o += valueLen;
  }
  return props;
}
