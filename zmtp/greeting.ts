/**
 * The ZMTP 3.1 greeting (RFC 37 §"Formal Grammar", §"Version Negotiation"): 64 bytes each way,
 * as libzmq 4.3 writes and reads it (`src/zmtp_engine.cpp`).
 *
 *   0      FF                signature start
 *   1..8   padding           libzmq writes u64be(len(routing id) + 1); receivers ignore it
 *   9      7F                signature end (bit 0 set, else libzmq falls back to ZMTP 1.0)
 *   10,11  03 01             version 3.1
 *   12..31 mechanism         NUL-padded ASCII
 *   32     as-server         libzmq always writes 00; never relied upon
 *   33..63 filler            zeros
 *
 * We send all 64 bytes at once and never wait for the peer's first: libzmq sends 10 bytes and
 * waits for ours before the rest (RFC 37 §"Detecting ZMTP 1.0 and 2.0 Peers"), so waiting for
 * its whole greeting would deadlock.
 */
import { latin1String, writeLatin1, writeU32BE, zeroBytes } from './bytes.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';

export const GREETING_SIZE = 64;

/** Builds our greeting. `identityLength` reproduces libzmq's padding so our bytes match its. */
export function encodeGreeting(mechanism: string, identityLength = 0): Uint8Array {
  if (mechanism.length === 0 || mechanism.length > 20) {
    throw new RangeError('mechanism name must be 1 to 20 ASCII bytes');
  }
  const g = zeroBytes(GREETING_SIZE);
  g[0] = 0xff;
  writeU32BE(g, identityLength + 1, 5); // low word of the u64be padding; the high word stays 0
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = 1;
  writeLatin1(mechanism, g, 12);
  return g;
}

/** The fields of a peer's greeting we act on. */
export interface Greeting {
  major: number;
  minor: number;
  mechanism: string;
}

/**
 * Checks a (possibly partial) greeting prefix as early as each field is available, so that a
 * non-ZMTP or pre-3.0 peer is refused without waiting for 64 bytes. Returns nothing; throws.
 */
export function checkGreetingPrefix(bytes: Uint8Array, length: number): void {
  if (length > 0 && bytes[0] !== 0xff) {
    throw new ZmtpError(ZmtpErrorCode.GREETING_SIGNATURE, 'peer greeting does not start with 0xFF');
  }
  if (length > 9 && (bytes[9]! & 0x01) === 0) {
    throw new ZmtpError(ZmtpErrorCode.GREETING_SIGNATURE, 'peer greeting signature end lacks bit 0 (ZMTP 1.0 peer)');
  }
  if (length > 10 && bytes[10]! < 3) {
    throw new ZmtpError(ZmtpErrorCode.VERSION, `peer speaks ZMTP ${bytes[10]}.x; 3.0 or later is required`);
  }
}

/**
 * Parses a complete 64-byte greeting and checks the mechanism against ours. Throws GREETING_LENGTH
 * for fewer than 64 bytes (a greeting is never decoded in part: see {@link checkGreetingPrefix}).
 */
export function decodeGreeting(bytes: Uint8Array, expectedMechanism: string): Greeting {
  if (!(bytes instanceof Uint8Array) || bytes.length < GREETING_SIZE) {
    throw new ZmtpError(ZmtpErrorCode.GREETING_LENGTH, `a greeting is ${GREETING_SIZE} bytes`);
  }
  checkGreetingPrefix(bytes, GREETING_SIZE);
  let end = 12;
  while (end < 32 && bytes[end] !== 0) end++;
  const mechanism = latin1String(bytes, 12, end);
  if (mechanism !== expectedMechanism) {
    // Only name our own mechanism: the peer's bytes are not echoed into messages.
    throw new ZmtpError(
      ZmtpErrorCode.MECHANISM_MISMATCH,
      `peer greeting names a different security mechanism than ${expectedMechanism}`,
    );
  }
  return { major: bytes[10]!, minor: bytes[11]!, mechanism };
}
