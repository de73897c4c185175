/**
 * CurveZMQ keys (RFC 26 §"Cryptographic Notation": Curve25519 key pairs): generation, public-key
 * derivation, the X25519 function itself, and validation at the public boundary.
 *
 * X25519 runs on node:crypto (OpenSSL) when it offers X25519: measured here at ≈27k agreements/s
 * against ≈1k/s for @noble/curves, which matters because every CURVE handshake costs four of them
 * on each side. @noble/curves is the fallback for runtimes whose OpenSSL lacks X25519.
 *
 * A peer's public key that is a low-order point makes the shared secret all zero, which would let
 * anyone compute the box key; such keys are refused with ERR_ZMTP_CURVE_KEY (libsodium's
 * crypto_scalarmult refuses them the same way).
 */
import * as nodeCrypto from 'node:crypto';
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js';
import { ZmtpError, ZmtpErrorCode } from '../zmtp/errors.js';
import { z85Decode } from './z85.js';

/** Length of every CurveZMQ key, public or secret. */
export const KEY_BYTES = 32;

/** A CURVE key pair, 32 bytes each. */
export interface CurveKeypair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** A key as accepted at the public API: 32 bytes, 64 hex characters or 40 Z85 characters. */
export type CurveKeyInput = Uint8Array | string;

// DER prefix of an X25519 PKCS#8 private key (RFC 8410 §7): the raw 32 bytes follow. PKCS#8 import goes through OpenSSL 3's decoder framework and is slow (measured
// ≈2.6k/s), so it is used only for keys given as raw bytes once (long-term keys, the public
// helpers); per-handshake keys go through JWK (≈120k/s for public keys) or stay KeyObjects.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

const HAVE_NODE_X25519 = (() => {
  try {
    const k = nodeCrypto.generateKeyPairSync('x25519');
    return k.privateKey.asymmetricKeyType === 'x25519';
  } catch {
    return false;
  }
})();

/**
 * An X25519 secret key prepared for repeated agreements: the raw bytes (kept for wiping and for
 * the cookie), its public key, and on node:crypto the imported KeyObject. Internal to curve/.
 * OpenSSL's copy inside a KeyObject cannot be wiped from JavaScript; it is released when the
 * object is collected, which is why handshakes drop their transient handles as soon as they can.
 */
export interface X25519Secret {
  readonly raw: Uint8Array;
  readonly publicKey: Uint8Array;
  handle: nodeCrypto.KeyObject | null;
}

function b64u(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url');
}

function fromB64u(text: string | undefined): Uint8Array {
  return new Uint8Array(Buffer.from(text ?? '', 'base64url'));
}

function importPkcs8(raw: Uint8Array): nodeCrypto.KeyObject {
  const der = Buffer.alloc(48);
  der.set(PKCS8_PREFIX, 0);
  der.set(raw, 16);
  try {
    return nodeCrypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

function importPublic(pub: Uint8Array): nodeCrypto.KeyObject {
  return nodeCrypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64u(pub) }, format: 'jwk' });
}

/** Prepares a raw 32-byte secret key (copied) for agreements; derives its public key. */
export function secretFromRaw(raw: Uint8Array): X25519Secret {
  const copy = new Uint8Array(raw);
  if (!HAVE_NODE_X25519) return { raw: copy, publicKey: nobleX25519.getPublicKey(copy), handle: null };
  const handle = importPkcs8(copy);
  const jwk = nodeCrypto.createPublicKey(handle).export({ format: 'jwk' });
  return { raw: copy, publicKey: fromB64u(jwk.x), handle };
}

/**
 * Prepares a secret key whose public key is already known (a server transient key recovered from
 * its own cookie): the fast JWK import, which takes both halves.
 */
export function secretFromRawWithPublic(raw: Uint8Array, publicKey: Uint8Array): X25519Secret {
  const copy = new Uint8Array(raw);
  const pub = new Uint8Array(publicKey);
  if (!HAVE_NODE_X25519) return { raw: copy, publicKey: pub, handle: null };
  const handle = nodeCrypto.createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: b64u(copy), x: b64u(pub) },
    format: 'jwk',
  });
  return { raw: copy, publicKey: pub, handle };
}

/** A fresh random secret key (a connection's transient key pair). */
export function generateSecret(): X25519Secret {
  if (!HAVE_NODE_X25519) {
    const raw = new Uint8Array(nodeCrypto.randomBytes(KEY_BYTES));
    return { raw, publicKey: nobleX25519.getPublicKey(raw), handle: null };
  }
  const { privateKey } = nodeCrypto.generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return { raw: fromB64u(jwk.d), publicKey: fromB64u(jwk.x), handle: privateKey };
}

/** Wipes what can be wiped of a prepared secret and drops its handle. */
export function wipeSecret(secret: X25519Secret | null | undefined): void {
  if (!secret) return;
  secret.raw.fill(0);
  secret.handle = null;
}

/**
 * X25519 with a prepared secret (RFC 7748 §5): the 32-byte shared point.
 * @throws ZmtpError ERR_ZMTP_CURVE_KEY when `peerPublic` is a low-order point (all-zero result).
 */
export function agree(secret: X25519Secret, peerPublic: Uint8Array): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = secret.handle
      ? nodeCrypto.diffieHellman({ privateKey: secret.handle, publicKey: importPublic(peerPublic) })
      : nobleX25519.getSharedSecret(secret.raw, peerPublic);
  } catch (err) {
    // OpenSSL ("failed during derivation") and noble both refuse an all-zero shared secret; with
    // 32-byte inputs that is the only way the agreement can fail.
    throw new ZmtpError(ZmtpErrorCode.CURVE_KEY, 'public key is a low-order point', { cause: err });
  }
  let acc = 0;
  for (let i = 0; i < KEY_BYTES; i++) acc |= shared[i]!;
  if (acc === 0) throw new ZmtpError(ZmtpErrorCode.CURVE_KEY, 'public key is a low-order point');
  const out = new Uint8Array(shared);
  shared.fill(0);
  return out;
}

/** Throws TypeError / RangeError unless `key` is a 32-byte Uint8Array (STYLE 11). */
export function assertKey(key: unknown, name: string): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (key.length !== KEY_BYTES) throw new RangeError(`${name} must be ${KEY_BYTES} bytes`);
}

/**
 * Normalises a key given as 32 bytes (copied), 64 hex characters or 40 Z85 characters.
 * @throws TypeError for another type; RangeError for a wrong length or a malformed string.
 */
export function parseKey(key: CurveKeyInput, name: string): Uint8Array {
  if (typeof key === 'string') {
    if (key.length === 64) {
      if (!/^[0-9a-fA-F]{64}$/.test(key)) throw new RangeError(`${name} is not valid hex`);
      return new Uint8Array(Buffer.from(key, 'hex'));
    }
    if (key.length === 40) {
      try {
        return z85Decode(key);
      } catch (err) {
        throw new RangeError(`${name} is not valid Z85`, { cause: err });
      }
    }
    throw new RangeError(`${name} must be 64 hex or 40 Z85 characters`);
  }
  assertKey(key, name);
  return new Uint8Array(key);
}

/**
 * X25519(secret, peerPublic) → the 32-byte shared point (RFC 7748 §5).
 * @throws TypeError / RangeError unless both keys are 32-byte Uint8Arrays;
 *   ZmtpError ERR_ZMTP_CURVE_KEY when `peerPublic` is a low-order point (all-zero result).
 */
export function x25519(secretKey: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  assertKey(secretKey, 'secretKey');
  assertKey(peerPublic, 'peerPublic');
  const secret = secretFromRaw(secretKey);
  try {
    return agree(secret, peerPublic);
  } finally {
    wipeSecret(secret);
  }
}

/**
 * The public key of a 32-byte secret key (X25519 base-point multiplication; libsodium's
 * crypto_scalarmult_base).
 * @throws TypeError / RangeError unless `secretKey` is a 32-byte Uint8Array.
 */
export function publicKeyFromSecret(secretKey: Uint8Array): Uint8Array {
  assertKey(secretKey, 'secretKey');
  const secret = secretFromRaw(secretKey);
  wipeSecret(secret);
  return secret.publicKey;
}

/** A fresh random key pair (the secret from the OS CSPRNG, as crypto_box_keypair does). */
export function generateKeypair(): CurveKeypair {
  const secret = generateSecret();
  const keypair = { publicKey: secret.publicKey, secretKey: new Uint8Array(secret.raw) };
  wipeSecret(secret);
  return keypair;
}

/** Constant-time equality of two byte ranges of length `len` (STYLE 8: never early-exit on secrets). */
export function equalBytes(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): boolean {
  let diff = 0;
  for (let i = 0; i < len; i++) diff |= a[aOff + i]! ^ b[bOff + i]!;
  return diff === 0;
}

/** True for the ERR_ZMTP_CURVE_KEY errors thrown by {@link agree}. */
export function isZmtpKeyError(err: unknown): err is ZmtpError {
  return err instanceof ZmtpError && err.code === ZmtpErrorCode.CURVE_KEY;
}
