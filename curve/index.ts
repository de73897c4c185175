/**
 * CurveZMQ (ZeroMQ RFC 26) as libzmq 4.3 speaks it: the "CURVE" security mechanism for the ZMTP
 * engine, plus key helpers. The handshake is in client.ts / server.ts, the per-frame MESSAGE
 * boxes in message.ts, the crypto in box.ts (crypto_box over our own Salsa20/Poly1305 and X25519
 * from node:crypto), nonces in nonce.ts, the server cookie in cookie.ts, Z85 (RFC 32) in z85.ts.
 *
 * Keys are validated and imported once per factory (one factory per socket), so a connection's
 * handshake pays only for its transient keys.
 */
import { ZmtpError, ZmtpErrorCode } from '../zmtp/errors.js';
import type { Mechanism, MechanismFactory, MechanismHost, MechanismRole } from '../zmtp/mechanism.js';
import { CurveClient, type CurveClientKeys } from './client.js';
import { agree, equalBytes, parseKey, secretFromRaw, wipeSecret, type CurveKeyInput } from './keys.js';
import { CurveServer, type CurveServerKeys } from './server.js';

export { generateKeypair, publicKeyFromSecret, KEY_BYTES } from './keys.js';
export type { CurveKeypair, CurveKeyInput } from './keys.js';
export { z85Decode, z85Encode } from './z85.js';

/** Options of {@link curveClient}. Keys: 32 bytes, 64 hex characters or 40 Z85 characters. */
export interface CurveClientOptions {
  /** The server's long-term public key S (the key the connection authenticates). */
  serverKey: CurveKeyInput;
  /** Our long-term public key C; derived from `secretKey` when omitted, checked when given. */
  publicKey?: CurveKeyInput;
  /** Our long-term secret key c. */
  secretKey: CurveKeyInput;
}

/** Options of {@link curveServer}. Keys: 32 bytes, 64 hex characters or 40 Z85 characters. */
export interface CurveServerOptions {
  /** Our long-term public key S; derived from `secretKey` when omitted, checked when given. */
  publicKey?: CurveKeyInput;
  /** Our long-term secret key s. */
  secretKey: CurveKeyInput;
}

function prepareOwnKeys(publicKey: CurveKeyInput | undefined, secretKey: CurveKeyInput) {
  const raw = parseKey(secretKey, 'secretKey');
  const secret = secretFromRaw(raw);
  raw.fill(0);
  if (publicKey !== undefined) {
    const given = parseKey(publicKey, 'publicKey');
    if (!equalBytes(given, 0, secret.publicKey, 0, 32)) {
      wipeSecret(secret);
      throw new RangeError('publicKey does not belong to secretKey');
    }
  }
  return secret;
}

function roleError(expected: MechanismRole): never {
  throw new ZmtpError(
    ZmtpErrorCode.MECHANISM_MISMATCH,
    `this CURVE factory can only run the ${expected} side (connecting side = client)`,
  );
}

/**
 * The CURVE mechanism for connecting sockets: authenticates the server by `serverKey` and proves
 * our own long-term key to it.
 * @throws TypeError / RangeError for malformed keys or a publicKey that does not match secretKey;
 *   ZmtpError ERR_ZMTP_CURVE_KEY when `serverKey` is a low-order point.
 */
export function curveClient(options: CurveClientOptions): MechanismFactory {
  if (options === null || typeof options !== 'object') throw new TypeError('curveClient expects an options object');
  const serverKey = parseKey(options.serverKey, 'serverKey');
  const secret = prepareOwnKeys(options.publicKey, options.secretKey);
  // A low-order server key would give every handshake an all-zero, public box key: refuse it now
  // rather than on every connection attempt.
  agree(secret, serverKey).fill(0);
  const keys: CurveClientKeys = { serverKey, publicKey: secret.publicKey, secret };
  return {
    name: 'CURVE',
    create(host: MechanismHost, role: MechanismRole): Mechanism {
      if (role !== 'client') roleError('client');
      return new CurveClient(host, keys);
    },
  };
}

/**
 * The CURVE mechanism for listening sockets: proves `publicKey` to clients and learns each
 * client's long-term key, which goes to the host's admitPeer (the authentication hook).
 * @throws TypeError / RangeError for malformed keys or a publicKey that does not match secretKey.
 */
export function curveServer(options: CurveServerOptions): MechanismFactory {
  if (options === null || typeof options !== 'object') throw new TypeError('curveServer expects an options object');
  const secret = prepareOwnKeys(options.publicKey, options.secretKey);
  const keys: CurveServerKeys = { publicKey: secret.publicKey, secret };
  return {
    name: 'CURVE',
    create(host: MechanismHost, role: MechanismRole): Mechanism {
      if (role !== 'server') roleError('server');
      return new CurveServer(host, keys);
    },
  };
}
