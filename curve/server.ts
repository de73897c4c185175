/**
 * The CurveZMQ server handshake (RFC 26 §"The WELCOME Command", §"The READY Command"; the byte
 * layouts libzmq 4.3 puts on the wire, `src/curve_server.cpp`), as straight-line code mirroring
 * client.ts:
 *
 *     HELLO     → send WELCOME (Box[S' ‖ cookie](S→C', "WELCOME-" ‖ W))
 *     INITIATE  → check cookie, box and vouch; admitPeer(metadata, C, accepted)
 *     accepted  → send READY (Box[metadata](S'→C', "CurveZMQREADY---" ‖ 1)); handshake complete
 *
 * Name and exact size are checked before any decryption; a HELLO must carry version 1.0. On a
 * denial the host sends ERROR "400" itself and `accepted` never runs, so no READY leaves, as
 * with a libzmq server whose ZAP handler denies (RFC 27; libzmq `src/curve_server.cpp`).
 *
 * State before a valid INITIATE is what cookie.ts lists (cookie key, C', S', the client's last
 * nonce) plus s' as an OpenSSL key object, its raw bytes wiped once they are in the cookie:
 * re-importing s' from the cookie cost a base-point multiplication on INITIATE's critical path.
 * Nothing else is worked out ahead of INITIATE (the session key could be, in idle time, but a
 * replayed HELLO costs its sender nothing, so a HELLO buys one agreement and no more). The
 * factory shares only the immutable long-term key, so a HELLO flood grows nothing beyond the
 * per-connection objects the engine already owns.
 */
import { isCommand, latin1Bytes, type Mechanism, type MechanismHost, newBytes, ZmtpError, ZmtpErrorCode } from '../zmtp/index.js';
import { MAC_BYTES, boxKey, open, seal } from './box.js';
import { HELLO_BYTES, INITIATE_MIN_BYTES, READY_MIN_BYTES, WELCOME_BYTES, rekeyError } from './client.js';
import { COOKIE_BYTES, COOKIE_PLAINTEXT_BYTES, makeCookie, newCookieKey, openCookie } from './cookie.js';
import { equalBytes, preparePublic, takeTransientSecret, wipeRawCopy, wipeSecret, type X25519Public, type X25519Secret } from './keys.js';
import { MessageCodec } from './message.js';
import { randomInto } from './random.js';
import {
  HELLO_PREFIX,
  INITIATE_PREFIX,
  MESSAGE_CLIENT_PREFIX,
  MESSAGE_SERVER_PREFIX,
  READY_PREFIX,
  ReceiveNonce,
  SendNonce,
  VOUCH_PREFIX,
  WELCOME_PREFIX,
  longNonce,
} from './nonce.js';

const WELCOME_NAME = latin1Bytes('\x07WELCOME');
const READY_NAME = latin1Bytes('\x05READY');

/** The keys a listener's connections need; prepared once per factory. */
export interface CurveServerKeys {
  /** Our long-term public key S. */
  readonly publicKey: Uint8Array;
  /** Our long-term secret key s, imported for repeated agreements. */
  readonly secret: X25519Secret;
}

type ServerState = 'hello' | 'initiate' | 'admitting' | 'done' | 'failed';

/** One connection's CURVE server mechanism. */
export class CurveServer implements Mechanism {
  codec: MessageCodec | null = null;
  /** The client's long-term key C, once INITIATE has proven it (vouch). */
  peerPublicKey: Uint8Array | undefined = undefined;
  private state: ServerState = 'hello';
  private cookieKey: Uint8Array | null = null;
  private clientTransient: Uint8Array | null = null;
  /** C' imported once: it serves the HELLO and the session agreements. */
  private clientTransientKey: X25519Public | null = null;
  private serverTransient: Uint8Array | null = null;
  /** s', kept as a key object from WELCOME until INITIATE has used it (raw bytes wiped). */
  private transient: X25519Secret | null = null;
  private sessionKey: Uint8Array | null = null;
  private readonly sendNonce = new SendNonce();
  private readonly recvNonce = new ReceiveNonce();

  constructor(
    private readonly host: MechanismHost,
    private readonly keys: CurveServerKeys,
  ) {}

  /** Nothing to send: the client speaks first. */
  start(): void {}

  /** HELLO or INITIATE from the client; anything else, or anything after a failure, throws. */
  onCommand(body: Uint8Array): void {
    try {
      if (this.state === 'hello') this.readHello(body);
      else if (this.state === 'initiate') this.readInitiate(body);
      else throw new ZmtpError(ZmtpErrorCode.UNEXPECTED_COMMAND, 'CURVE server expects no command now');
    } catch (err) {
      this.fail();
      throw err;
    }
  }

  /** Wipes every secret; the mechanism and its codec refuse further use. */
  destroy(): void {
    this.fail();
    this.codec?.destroy();
  }

  private readHello(body: Uint8Array): void {
    if (!isCommand(body, 'HELLO') || body.length !== HELLO_BYTES) {
      throw new ZmtpError(ZmtpErrorCode.CURVE_HELLO, `expected a HELLO command of exactly ${HELLO_BYTES} bytes`);
    }
    if (body[6] !== 1 || body[7] !== 0) throw new ZmtpError(ZmtpErrorCode.CURVE_HELLO, 'unsupported CurveZMQ version');
    const clientTransient = new Uint8Array(body.subarray(80, 112));
    const clientTransientKey = preparePublic(clientTransient);
    let helloKey: Uint8Array;
    try {
      helloKey = boxKey(this.keys.secret, clientTransientKey);
    } catch (err) {
      throw rekeyError(err, "client's transient key is a low-order point");
    }
    try {
      const nonce = this.recvNonce.setPrefix(HELLO_PREFIX);
      nonce.read(body, 112); // the first short nonce from the client: any value starts the window
      // The 64-byte signature box proves the client knows S; libzmq does not look at its content
      // (64 zero bytes), and neither do we, so nothing differs from libzmq on the wire.
      if (open(helloKey, nonce.bytes, body.subarray(120), new Uint8Array(64)) === null) {
        throw new ZmtpError(ZmtpErrorCode.CURVE_HELLO, 'HELLO box does not authenticate (client has a wrong server key?)');
      }
      nonce.commit();
      this.clientTransient = clientTransient;
      this.clientTransientKey = clientTransientKey;
      this.sendWelcome(helloKey);
    } finally {
      helloKey.fill(0);
    }
  }

  private sendWelcome(helloKey: Uint8Array): void {
    const transient = takeTransientSecret();
    this.transient = transient;
    this.serverTransient = transient.publicKey;
    this.cookieKey = newCookieKey();
    const plain = new Uint8Array(32 + COOKIE_BYTES);
    plain.set(transient.publicKey, 0);
    plain.set(makeCookie(this.cookieKey, this.clientTransient!, transient.raw), 32);
    // s' now exists in raw form only inside the cookie, sealed under a key only this connection
    // holds; the key object stays for the agreements.
    wipeRawCopy(transient);
    const out = newBytes(WELCOME_BYTES);
    out.set(WELCOME_NAME, 0);
    randomInto(out, 8, 16);
    seal(helloKey, longNonce(WELCOME_PREFIX, out, 8), plain, out, 24);
    plain.fill(0);
    this.state = 'initiate';
    this.host.sendCommand(out);
  }

  private readInitiate(body: Uint8Array): void {
    if (!isCommand(body, 'INITIATE') || body.length < INITIATE_MIN_BYTES) {
      throw new ZmtpError(ZmtpErrorCode.CURVE_INITIATE, `expected an INITIATE command of at least ${INITIATE_MIN_BYTES} bytes`);
    }
    const cookiePlain = new Uint8Array(COOKIE_PLAINTEXT_BYTES);
    const transient = this.transient!;
    try {
      const cookieOk = openCookie(this.cookieKey!, body, 9, cookiePlain);
      // The cookie is single-use: this connection never accepts a second INITIATE anyway.
      this.cookieKey!.fill(0);
      this.cookieKey = null;
      if (!cookieOk) throw new ZmtpError(ZmtpErrorCode.CURVE_INITIATE, 'INITIATE cookie is not valid on this connection');
      const clientTransient = this.clientTransient!;
      if (!equalBytes(cookiePlain, 0, clientTransient, 0, 32)) {
        throw new ZmtpError(ZmtpErrorCode.CURVE_INITIATE, "INITIATE cookie was issued for another client transient key");
      }
      const nonce = this.recvNonce.setPrefix(INITIATE_PREFIX);
      if (!nonce.read(body, 105)) throw new ZmtpError(ZmtpErrorCode.CURVE_INITIATE, 'INITIATE nonce is not strictly increasing');
      // The cookie is authentic (sealed under this connection's own key) and names this C', so
      // the s' inside it is the one kept since WELCOME: no need to import it again.
      cookiePlain.fill(0);
      this.sessionKey = boxKey(transient, this.clientTransientKey!);
      this.clientTransientKey = null;
      const inner = newBytes(body.length - 113 - MAC_BYTES);
      if (open(this.sessionKey, nonce.bytes, body.subarray(113), inner) === null) {
        throw new ZmtpError(ZmtpErrorCode.CURVE_INITIATE, 'INITIATE box does not authenticate');
      }
      nonce.commit();
      const clientKey = new Uint8Array(inner.subarray(0, 32));
      let vouchKey: Uint8Array;
      try {
        vouchKey = boxKey(transient, clientKey);
      } catch (err) {
        throw rekeyError(err, "client's long-term key is a low-order point");
      }
      wipeSecret(transient);
      this.transient = null;
      const vouchPlain = new Uint8Array(64);
      const vouchOk = open(vouchKey, longNonce(VOUCH_PREFIX, inner, 32), inner.subarray(48, 128), vouchPlain) !== null;
      vouchKey.fill(0);
      if (!vouchOk) throw new ZmtpError(ZmtpErrorCode.CURVE_INITIATE, 'INITIATE vouch does not authenticate');
      // The vouch must name this connection's C' (else it was lifted from another session) and
      // this server's S (else it was made for another server); libzmq checks only C'.
      const match = equalBytes(vouchPlain, 0, clientTransient, 0, 32) && equalBytes(vouchPlain, 32, this.keys.publicKey, 0, 32);
      if (!match) throw new ZmtpError(ZmtpErrorCode.CURVE_INITIATE, 'INITIATE vouch is for another transient key or server');
      this.peerPublicKey = clientKey;
      this.state = 'admitting';
      this.host.admitPeer(inner.subarray(128), clientKey, () => this.sendReady());
    } finally {
      cookiePlain.fill(0);
      wipeSecret(this.transient);
      this.transient = null;
    }
  }

  private sendReady(): void {
    // The host may admit asynchronously; a connection destroyed meanwhile stays closed.
    if (this.state !== 'admitting') return;
    const metadata = this.host.localMetadata;
    const out = newBytes(READY_MIN_BYTES + metadata.length);
    out.set(READY_NAME, 0);
    const nonce = this.sendNonce.setPrefix(READY_PREFIX).next();
    nonce.writeCounter(out, 6);
    seal(this.sessionKey!, nonce.bytes, metadata, out, 14);
    this.codec = new MessageCodec(this.sessionKey!, MESSAGE_SERVER_PREFIX, MESSAGE_CLIENT_PREFIX, this.sendNonce, this.recvNonce);
    this.sessionKey!.fill(0);
    this.sessionKey = null;
    this.state = 'done';
    this.host.sendCommand(out);
    this.host.handshakeComplete();
  }

  private fail(): void {
    this.state = 'failed';
    wipeSecret(this.transient);
    this.transient = null;
    this.clientTransientKey = null;
    this.cookieKey?.fill(0);
    this.cookieKey = null;
    this.sessionKey?.fill(0);
    this.sessionKey = null;
  }
}
