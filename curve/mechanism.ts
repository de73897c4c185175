/**
 * The "CURVE" security mechanism (RFC 26) as factories for the ZMTP engine: one factory per
 * socket, one mechanism instance (client.ts or server.ts) per connection. Keys are validated and
 * imported once per factory, so a connection's handshake pays only for its transient keys.
 */
import { type Mechanism, type MechanismFactory, type MechanismHost, type MechanismRole, ZmtpError, ZmtpErrorCode } from '../zmtp/index.js';
import { CurveClient, type CurveClientKeys } from './client.js';
import { agree, equalBytes, parseKey, preparePublic, secretFromRaw, wipeSecret, type CurveKeyInput } from './keys.js';
import { CurveServer, type CurveServerKeys } from './server.js';

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
  const serverPublic = preparePublic(serverKey);
  agree(secret, serverPublic).fill(0);
  const keys: CurveClientKeys = { serverKey, serverPublic, publicKey: secret.publicKey, secret };
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
