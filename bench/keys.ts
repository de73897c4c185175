/**
 * CURVE keys for the benchmark. They are derived from fixed strings, not random, so the two
 * sides of a split run (--bind on one machine, --connect on another) agree on the server key
 * without a side channel. That is fine for a benchmark and wrong for anything else.
 *
 * Keys are made with node:crypto's X25519 directly (not curve/) so the bench does not depend on
 * curve/ internals, and Z85-encoded here for zeromq.js, which takes Z85 strings.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { CurveKeys } from './protocol.js';

// RFC 8410 §7 PKCS#8 prefix of an X25519 private key; the raw 32 bytes follow.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

function publicFromSecret(secret: Buffer): Buffer {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, secret]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return spki.subarray(spki.length - 32);
}

/** The fixed bench key pairs (hex). */
export function benchKeys(): CurveKeys {
  const serverSecret = createHash('sha256').update('oxenmq-bench server key').digest();
  const clientSecret = createHash('sha256').update('oxenmq-bench client key').digest();
  return {
    serverPublic: publicFromSecret(serverSecret).toString('hex'),
    serverSecret: serverSecret.toString('hex'),
    clientPublic: publicFromSecret(clientSecret).toString('hex'),
    clientSecret: clientSecret.toString('hex'),
  };
}

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** Z85 (ZMQ RFC 32) of a hex string whose byte length is a multiple of 4. */
export function hexToZ85(hex: string): string {
  const b = Buffer.from(hex, 'hex');
  let out = '';
  for (let i = 0; i < b.length; i += 4) {
    let v = b.readUInt32BE(i);
    let chunk = '';
    for (let j = 0; j < 5; j++) {
      chunk = Z85[v % 85]! + chunk;
      v = Math.floor(v / 85);
    }
    out += chunk;
  }
  return out;
}
