/**
 * CurveZMQ keys (Curve25519 key pairs, RFC 26 §"Security"): generation, public-key
 * derivation, the X25519 function itself, and validation at the public boundary.
 *
 * X25519 runs on node:crypto (OpenSSL) when the runtime has it (looked up, never imported, so
 * this file also runs in browsers) and it offers X25519: with a prepared secret it measured about
 * 20× faster than @noble/curves, which matters because a CURVE handshake costs three or four
 * agreements plus a transient key pair on each side.
 * @noble/curves is the fallback elsewhere. Under Node, Bun and Deno it is loaded only there, on
 * first use (1.6 MB of source: importing it eagerly was about 30 ms of a 70 ms import of the
 * package on Node 20, for a path they never take); a browser build hands it over with
 * {@link useNobleX25519}. Web Crypto's X25519 is not used: it is asynchronous only, and the
 * agreements run inside synchronous handshake steps.
 *
 * A peer's public key that is a low-order point makes the shared secret all zero, which would let
 * anyone compute the box key; such keys are refused with ERR_ZMTP_CURVE_KEY (libsodium's
 * crypto_scalarmult refuses them the same way).
 */
import { ZmtpError, ZmtpErrorCode, hexBytes, hexString, later, nodeBuiltin, zeroBytes } from '../zmtp/index.js';
import { randomBytes } from './random.js';
import { z85Decode } from './z85.js';

/** Length of every CurveZMQ key, public or secret. */
export const KEY_BYTES = 32;

/** A CURVE key pair, 32 bytes each. */
export interface CurveKeypair {
  /** The public key, safe to share (the server key clients connect with). */
  publicKey: Uint8Array;
  /** The secret key: keep it private. */
  secretKey: Uint8Array;
}

/** A key as accepted at the public API: 32 bytes, 64 hex characters or 40 Z85 characters. */
export type CurveKeyInput = Uint8Array | string;

// How raw keys reach OpenSSL, as measured on Node 20.20:
// - PKCS#8 DER import goes through OpenSSL 3's decoder framework: about 10× slower than
// - JWK import (EVP_PKEY_new_raw_private_key underneath), which is what we use; OpenSSL derives
//   the public key while importing (about 53 µs of CPU, one base-point multiplication);
// - exporting a *private* KeyObject as JWK hangs the process after a few thousand calls on Node
//   20.20 (reproduced with nothing but generateKeyPairSync + privateKey.export({format:'jwk'}) in a
//   loop), so secrets are drawn as raw random bytes (as crypto_box_keypair does) and imported;
// - the public half of an imported secret, createPublicKey(handle).export({format:'jwk'}), costs
//   about 11 µs against 46 µs for X25519(secret, 9), and 20 000 calls in a loop ran clean, so that
//   is how a prepared secret learns its public key (the base-point agreement is the fallback when
//   the self-test below finds the export missing or wrong).
// Node requires the `x` member of a private JWK but builds the key from `d` alone; where the
// real public key is not known yet the base point stands in for it. A self-test at load checks
// that this still yields the right key pair (RFC 7748 §6.1) and falls back to PKCS#8 otherwise.
/** An OpenSSL key held by node:crypto (opaque here, so no Node type reaches the declarations). */
interface KeyObject {
  readonly type: string;
}
type Jwk = { kty: string; crv: string; d?: string; x: string };
/** The part of node:crypto used here. */
interface NodeCrypto {
  createPrivateKey(input: { key: Jwk; format: 'jwk' } | { key: Uint8Array; format: 'der'; type: 'pkcs8' }): KeyObject;
  createPublicKey(input: { key: Jwk; format: 'jwk' } | KeyObject): KeyObject & { export(o: { format: 'jwk' }): { x?: unknown } };
  diffieHellman(input: { privateKey: KeyObject; publicKey: KeyObject }): Uint8Array;
}
/** The part of Node's Buffer used to move keys in and out of JWK. */
interface NodeBufferClass {
  from(data: Uint8Array): { toString(encoding: 'base64url'): string };
  from(data: string, encoding: 'base64url'): Uint8Array;
}
const nodeCrypto = nodeBuiltin<NodeCrypto>('node:crypto');
const NodeBuffer = nodeBuiltin<{ Buffer: NodeBufferClass }>('node:buffer')?.Buffer;

const PKCS8_PREFIX = hexBytes('302e020100300506032b656e04220420');
const BASE_POINT = new Uint8Array(32);
BASE_POINT[0] = 9;

function b64u(bytes: Uint8Array): string {
  return NodeBuffer!.from(bytes).toString('base64url');
}

function importJwk(raw: Uint8Array, pub: Uint8Array): KeyObject {
  return nodeCrypto!.createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64u(raw), x: b64u(pub) }, format: 'jwk' });
}

function importPkcs8(raw: Uint8Array): KeyObject {
  const der = zeroBytes(48);
  der.set(PKCS8_PREFIX, 0);
  der.set(raw, 16);
  try {
    return nodeCrypto!.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

function importPublic(pub: Uint8Array): KeyObject {
  return nodeCrypto!.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64u(pub) }, format: 'jwk' });
}

type NodeImport = 'jwk' | 'pkcs8';

/** Whether {@link exportPublic} gives the right public key here (set by the probe). */
let publicExport = false;

/** The public key OpenSSL derived when `handle` was imported, or null when it cannot say. */
function exportPublic(handle: KeyObject): Uint8Array | null {
  try {
    const x = nodeCrypto!.createPublicKey(handle).export({ format: 'jwk' }).x;
    const pub = typeof x === 'string' ? NodeBuffer!.from(x, 'base64url') : null;
    return pub !== null && pub.length === KEY_BYTES ? pub : null;
  } catch {
    return null;
  }
}

/** 'jwk' (fast import), 'pkcs8' (slow import) or null when node:crypto lacks X25519 (→ noble). */
function probeNodeImport(): NodeImport | null {
  if (nodeCrypto === undefined || NodeBuffer === undefined) return null;
  const sk = new Uint8Array(hexBytes('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'));
  const pk = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
  const base = (() => {
    try {
      return importPublic(BASE_POINT);
    } catch {
      return null;
    }
  })();
  if (base === null) return null;
  for (const mode of ['jwk', 'pkcs8'] as const) {
    try {
      const handle = mode === 'jwk' ? importJwk(sk, BASE_POINT) : importPkcs8(sk);
      if (hexString(nodeCrypto.diffieHellman({ privateKey: handle, publicKey: base })) === pk) {
        const exported = exportPublic(handle);
        publicExport = exported !== null && hexString(exported) === pk;
        return mode;
      }
    } catch {
      // try the next way, or fall back to @noble/curves
    }
  }
  return null;
}

const PLATFORM_IMPORT = probeNodeImport();
let NODE_IMPORT: NodeImport | null = PLATFORM_IMPORT;
const BASE_POINT_KEY = PLATFORM_IMPORT === null ? null : importPublic(BASE_POINT);

interface NobleX25519 {
  getPublicKey(secretKey: Uint8Array): Uint8Array;
  getSharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
}
let nobleX25519: NobleX25519 | null = null;

/**
 * Hands over @noble/curves' `x25519` (from `@noble/curves/ed25519.js`) for runtimes that cannot
 * load it on demand (browsers: the browser entry does this); elsewhere it is loaded when needed.
 */
export function useNobleX25519(impl: NobleX25519): void {
  nobleX25519 ??= impl;
}

/**
 * @noble/curves' X25519, loaded on first use. Synchronous, because agreements run inside
 * handshake steps: `require` of an ES module (Node ≥ 20.19, Bun, Deno) rather than `import()`.
 * @throws ZmtpError ERR_ZMTP_CURVE_KEY where it can be neither loaded nor was handed over.
 */
function noble(): NobleX25519 {
  if (nobleX25519 === null) {
    const createRequire = nodeBuiltin<{ createRequire(from: string): (id: string) => unknown }>('node:module')?.createRequire;
    if (createRequire === undefined) {
      throw new ZmtpError(ZmtpErrorCode.CURVE_KEY, 'no X25519 here: pass @noble/curves x25519 to useNobleX25519 first');
    }
    nobleX25519 = (createRequire(import.meta.url)('@noble/curves/ed25519.js') as { x25519: NobleX25519 }).x25519;
  }
  return nobleX25519;
}

/**
 * Internal (specs): which X25519 is in use and whether @noble/curves has been loaded, and a switch
 * that forces the @noble/curves fallback (`true`) or returns to the platform's X25519 (`false`).
 * A prepared secret keeps the backend it was made with: `agree` uses its KeyObject when it has one.
 */
export const x25519Backend = {
  get name(): 'node:crypto' | '@noble/curves' {
    return NODE_IMPORT === null ? '@noble/curves' : 'node:crypto';
  },
  get nobleLoaded(): boolean {
    return nobleX25519 !== null;
  },
  forceNoble(on: boolean): void {
    NODE_IMPORT = on ? null : PLATFORM_IMPORT;
    // Transients made ahead of time belong to the backend that made them.
    for (const s of transientPool.splice(0)) wipeSecret(s);
  },
};

/**
 * An X25519 secret key prepared for repeated agreements: the raw bytes (kept for wiping and for
 * the cookie), its public key, and on node:crypto the imported KeyObject. Internal to curve/.
 * OpenSSL's copy inside a KeyObject cannot be wiped from JavaScript; it is released when the
 * object is collected, which is why handshakes drop their transient handles as soon as they can.
 */
export interface X25519Secret {
  readonly raw: Uint8Array;
  readonly publicKey: Uint8Array;
  handle: KeyObject | null;
}

/**
 * A peer's public key prepared for agreements: its bytes and, on node:crypto, the imported
 * KeyObject, so a key used in two agreements (or in every handshake, as a server's long-term
 * key is by its clients) is imported once (about 9 µs each time). Internal to curve/.
 */
export interface X25519Public {
  readonly bytes: Uint8Array;
  readonly handle: KeyObject | null;
}

/** Prepares a peer's 32-byte public key (not copied) for {@link agree}. */
export function preparePublic(bytes: Uint8Array): X25519Public {
  if (NODE_IMPORT === null) return { bytes, handle: null };
  try {
    return { bytes, handle: importPublic(bytes) };
  } catch {
    return { bytes, handle: null }; // agree imports it again and reports the failure
  }
}

/** Prepares a raw 32-byte secret key (copied) for agreements; derives its public key. */
export function secretFromRaw(raw: Uint8Array): X25519Secret {
  const copy = new Uint8Array(raw);
  if (NODE_IMPORT === null) return { raw: copy, publicKey: noble().getPublicKey(copy), handle: null };
  const handle = NODE_IMPORT === 'jwk' ? importJwk(copy, BASE_POINT) : importPkcs8(copy);
  const exported = publicExport ? exportPublic(handle) : null;
  const publicKey = new Uint8Array(exported ?? nodeCrypto!.diffieHellman({ privateKey: handle, publicKey: BASE_POINT_KEY! }));
  return { raw: copy, publicKey, handle };
}

/** A fresh random secret key, from the OS CSPRNG. */
export function generateSecret(): X25519Secret {
  const raw = randomBytes(KEY_BYTES);
  const secret = secretFromRaw(raw);
  raw.fill(0);
  return secret;
}

// Transient key pairs made ahead of time. Making one costs an OpenSSL key import (a base-point
// multiplication, about one agreement's worth) plus the public-key export; a handshake needs one
// on each side before it can answer, on the latency path of every connection. Making the next one in idle time (setImmediate, after
// the current handshake step has been written) takes that off the path. Each key is still used
// for exactly one connection and wiped by it; the pool holds at most TRANSIENT_POOL keys.
const TRANSIENT_POOL = 2;
const transientPool: X25519Secret[] = [];
let refillScheduled = false;

function refillTransients(): void {
  refillScheduled = false;
  while (transientPool.length < TRANSIENT_POOL) transientPool.push(generateSecret());
}

/** A connection's transient key pair: one made ahead of time when there is one, else a new one. */
export function takeTransientSecret(): X25519Secret {
  const s = transientPool.pop() ?? generateSecret();
  if (!refillScheduled) {
    refillScheduled = true;
    later(refillTransients);
  }
  return s;
}

/**
 * Wipes the raw bytes of a prepared secret whose key object can do its agreements alone (on the
 * @noble/curves fallback the raw bytes are the key, and stay until {@link wipeSecret}).
 */
export function wipeRawCopy(secret: X25519Secret): void {
  if (secret.handle !== null) secret.raw.fill(0);
}

/** Wipes what can be wiped of a prepared secret and drops its handle. */
export function wipeSecret(secret: X25519Secret | null | undefined): void {
  if (!secret) return;
  secret.raw.fill(0);
  secret.handle = null;
}

/**
 * X25519 with a prepared secret (RFC 7748 §5) and a peer key as bytes or prepared: the 32-byte
 * shared point.
 * @throws ZmtpError ERR_ZMTP_CURVE_KEY when `peerPublic` is a low-order point (all-zero result).
 */
export function agree(secret: X25519Secret, peerPublic: Uint8Array | X25519Public): Uint8Array {
  let shared: Uint8Array;
  try {
    if (secret.handle !== null) {
      const peer = peerPublic instanceof Uint8Array ? importPublic(peerPublic) : (peerPublic.handle ?? importPublic(peerPublic.bytes));
      shared = nodeCrypto!.diffieHellman({ privateKey: secret.handle, publicKey: peer });
    } else {
      shared = noble().getSharedSecret(secret.raw, peerPublic instanceof Uint8Array ? peerPublic : peerPublic.bytes);
    }
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

/** Throws TypeError / RangeError unless `key` is a 32-byte Uint8Array: the public boundary's check. */
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
      return new Uint8Array(hexBytes(key));
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

/**
 * Constant-time equality of two byte ranges of length `len`: no early exit, so that comparing
 * secrets does not reveal where they differ. (zmtp's bytesEqual is for public bytes.)
 */
export function equalBytes(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): boolean {
  let diff = 0;
  for (let i = 0; i < len; i++) diff |= a[aOff + i]! ^ b[bOff + i]!;
  return diff === 0;
}
