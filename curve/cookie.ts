/**
 * The server's cookie (RFC 26 §"The WELCOME Command"): 96 opaque bytes the server hands the
 * client in WELCOME and gets back in INITIATE, carrying the server's transient secret so the
 * server need not hold it in between. Layout as libzmq 4.3 builds it:
 *
 *     cookie = K(16) ‖ secretbox[C'(32) ‖ s'(32)](cookieKey, "COOKIE--" ‖ K)
 *
 * Choice of cookie key: one random key **per connection**, generated when the HELLO is answered
 * and wiped once INITIATE has been checked (libzmq does the same). Why not one per listener:
 * - no shared state at all, so a HELLO flood grows nothing beyond each connection's own object,
 *   and there is nothing to rotate or to lock;
 * - a cookie is useless on any other connection, because no other connection has its key. With a
 *   listener-wide key a whole recorded INITIATE could be replayed on a fresh connection (the
 *   cookie would open and the INITIATE box is valid for that cookie's s'), which would need a
 *   replay cache — per-client state, the very thing a cookie exists to avoid.
 * The per-connection state before a valid INITIATE is therefore: the 32-byte cookie key, the
 * client's transient public key C' (to bind the cookie to this HELLO), the server's transient
 * public key S' and the client's last short nonce — a fixed ~100 bytes.
 */
import { MAC_BYTES, open, seal } from './box.js';
import { COOKIE_PREFIX, longNonce } from './nonce.js';
import { randomBytes, randomInto } from './random.js';

/** Bytes of a cookie on the wire. */
export const COOKIE_BYTES = 96;
/** Bytes of the cookie plaintext: C'(32) ‖ s'(32). */
export const COOKIE_PLAINTEXT_BYTES = 64;

/** A fresh random cookie key (32 bytes). */
export function newCookieKey(): Uint8Array {
  return randomBytes(32);
}

/**
 * Builds the cookie for one connection: seals the client's transient public key and the server's
 * transient secret key under `cookieKey` with a random 16-byte nonce suffix K.
 */
export function makeCookie(cookieKey: Uint8Array, clientTransient: Uint8Array, serverTransientSecret: Uint8Array): Uint8Array {
  const cookie = new Uint8Array(COOKIE_BYTES);
  randomInto(cookie, 0, 16);
  const plain = new Uint8Array(COOKIE_PLAINTEXT_BYTES);
  plain.set(clientTransient, 0);
  plain.set(serverTransientSecret, 32);
  seal(cookieKey, longNonce(COOKIE_PREFIX, cookie, 0), plain, cookie, 16);
  plain.fill(0);
  return cookie;
}

/**
 * Opens a cookie found at `buf[off, off + 96)` into `out` (64 bytes: C' ‖ s'). Returns false when
 * it was not made with `cookieKey` or has been altered.
 */
export function openCookie(cookieKey: Uint8Array, buf: Uint8Array, off: number, out: Uint8Array): boolean {
  const boxed = buf.subarray(off + 16, off + COOKIE_BYTES);
  if (boxed.length !== COOKIE_PLAINTEXT_BYTES + MAC_BYTES) return false;
  return open(cookieKey, longNonce(COOKIE_PREFIX, buf, off), boxed, out, 0) !== null;
}
