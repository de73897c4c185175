/**
 * What the package exposes of its CurveZMQ layer (RFC 26), on the `oxenmq-ts/curve` subpath: the
 * CURVE mechanism for ZmtpRouter / ZmtpDealer (`mechanism: curveServer(…)` / `curveClient(…)`),
 * key pairs, and Z85 (RFC 32), the text form libzmq uses for keys.
 */
export { curveClient, curveServer, type CurveClientOptions, type CurveServerOptions } from './mechanism.js';
export { KEY_BYTES, generateKeypair, publicKeyFromSecret, type CurveKeyInput, type CurveKeypair } from './keys.js';
export { z85Decode, z85Encode } from './z85.js';
