/**
 * The seam of the CurveZMQ layer (RFC 26, as libzmq 4.3 speaks it) for lib/: the CURVE mechanism
 * factories for the ZMTP engine and the key helpers. lib/ imports curve/ only through this file.
 * The handshake is in client.ts / server.ts, the per-frame MESSAGE boxes in message.ts, the
 * crypto in box.ts (crypto_box over our own Salsa20/Poly1305 and X25519 from node:crypto),
 * nonces in nonce.ts, the server cookie in cookie.ts, Z85 (RFC 32) in z85.ts. What the package
 * exposes to its users is listed in public.ts.
 */
export { curveClient, curveServer, type CurveClientOptions, type CurveServerOptions } from './mechanism.js';
export { KEY_BYTES, generateKeypair, publicKeyFromSecret, type CurveKeyInput, type CurveKeypair } from './keys.js';
export { z85Decode, z85Encode } from './z85.js';
