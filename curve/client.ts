/**
 * The CurveZMQ client handshake (RFC 26 §"The HELLO Command", §"The INITIATE Command"; the byte
 * layouts libzmq 4.3 puts on the wire, `src/curve_client.cpp`), as straight-line code:
 *
 *     start      → send HELLO    (C', Box[64 zeros](C'→S, "CurveZMQHELLO---" ‖ 1))
 *     WELCOME    → send INITIATE (cookie, Box[C ‖ V ‖ vouch ‖ metadata](C'→S', … ‖ 2))
 *     READY      → admit the server's metadata, then the handshake is complete
 *
 * Every incoming command has its name and exact size checked before anything is decrypted. A
 * wrong server key shows up as a WELCOME that does not authenticate (ERR_ZMTP_CURVE_WELCOME) when
 * the server answers at all; libzmq servers close silently after a HELLO they cannot open, which
 * the engine's handshake timeout and close handling turn into an error — nothing here waits.
 *
 * Secrets: the transient secret c' is wiped as soon as INITIATE is built (it is needed only for
 * the C'↔S and C'↔S' keys); the HELLO key after WELCOME, the session key once the MESSAGE codec
 * has derived its per-direction subkeys; everything in destroy() and on any failure.
 */
import { isCommand, isZmtpError, latin1Bytes, type Mechanism, type MechanismHost, newBytes, zeroBytes, ZmtpError, ZmtpErrorCode } from '../zmtp/index.js';
import { boxKey, open, seal } from './box.js';
import { COOKIE_BYTES } from './cookie.js';
import { preparePublic, takeTransientSecret, wipeSecret, type X25519Public, type X25519Secret } from './keys.js';
import { MessageCodec } from './message.js';
import { randomBytes } from './random.js';
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

/** Exact HELLO body size: name 6, version 2, padding 72, C' 32, nonce 8, box 80. */
export const HELLO_BYTES = 200;
/** Exact WELCOME body size: name 8, nonce suffix 16, box 144 (S' 32 ‖ cookie 96 ‖ MAC 16). */
export const WELCOME_BYTES = 168;
/** Minimum INITIATE body size: name 9, cookie 96, nonce 8, box 144 + metadata. */
export const INITIATE_MIN_BYTES = 257;
/** Minimum READY body size: name 6, nonce 8, MAC 16 (+ metadata). */
export const READY_MIN_BYTES = 30;

const HELLO_NAME = latin1Bytes('\x05HELLO');
const INITIATE_NAME = latin1Bytes('\x08INITIATE');

/** The keys a client connection needs; prepared once per factory. */
export interface CurveClientKeys {
  /** The server's long-term public key S. */
  readonly serverKey: Uint8Array;
  /** S imported once for the HELLO agreement of every connection. */
  readonly serverPublic: X25519Public;
  /** Our long-term public key C. */
  readonly publicKey: Uint8Array;
  /** Our long-term secret key c, imported for repeated agreements. */
  readonly secret: X25519Secret;
}

type ClientState = 'start' | 'welcome' | 'ready' | 'admitting' | 'done' | 'failed';

/** One connection's CURVE client mechanism. */
export class CurveClient implements Mechanism {
  codec: MessageCodec | null = null;
  /** The server's long-term key: known before connecting and proven by its WELCOME and READY. */
  readonly peerPublicKey: Uint8Array;
  private state: ClientState = 'start';
  private transient: X25519Secret | null = null;
  private helloKey: Uint8Array | null = null;
  private sessionKey: Uint8Array | null = null;
  private readonly sendNonce = new SendNonce();
  private readonly recvNonce = new ReceiveNonce();

  constructor(
    private readonly host: MechanismHost,
    private readonly keys: CurveClientKeys,
  ) {
    this.peerPublicKey = new Uint8Array(keys.serverKey);
  }

  /** Sends HELLO: the connecting side always speaks first. */
  start(): void {
    if (this.state !== 'start') throw new ZmtpError(ZmtpErrorCode.UNEXPECTED_COMMAND, 'CURVE client already started');
    try {
      this.sendHello();
    } catch (err) {
      this.fail();
      throw err;
    }
  }

  /** WELCOME or READY from the server; anything else, or anything after a failure, throws. */
  onCommand(body: Uint8Array): void {
    try {
      if (this.state === 'welcome') this.readWelcome(body);
      else if (this.state === 'ready') this.readReady(body);
      else throw new ZmtpError(ZmtpErrorCode.UNEXPECTED_COMMAND, 'CURVE client expects no command now');
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

  private sendHello(): void {
    this.transient = takeTransientSecret();
    this.helloKey = boxKey(this.transient, this.keys.serverPublic);
    const body = zeroBytes(HELLO_BYTES); // zero-filled: the 72 padding bytes stay zero
    body.set(HELLO_NAME, 0);
    body[6] = 1; // CurveZMQ version 1.0
    body[7] = 0;
    body.set(this.transient.publicKey, 80);
    const nonce = this.sendNonce.setPrefix(HELLO_PREFIX).next();
    nonce.writeCounter(body, 112);
    seal(this.helloKey, nonce.bytes, new Uint8Array(64), body, 120);
    this.state = 'welcome';
    this.host.sendCommand(body);
  }

  private readWelcome(body: Uint8Array): void {
    if (!isCommand(body, 'WELCOME') || body.length !== WELCOME_BYTES) {
      throw new ZmtpError(ZmtpErrorCode.CURVE_WELCOME, `expected a WELCOME command of exactly ${WELCOME_BYTES} bytes`);
    }
    const plain = new Uint8Array(32 + COOKIE_BYTES);
    if (open(this.helloKey!, longNonce(WELCOME_PREFIX, body, 8), body.subarray(24), plain) === null) {
      throw new ZmtpError(ZmtpErrorCode.CURVE_WELCOME, 'WELCOME box does not authenticate (wrong server key?)');
    }
    this.helloKey!.fill(0);
    this.helloKey = null;
    const serverTransient = plain.subarray(0, 32);
    const cookie = plain.subarray(32);
    const transient = this.transient!;
    const serverTransientKey = preparePublic(serverTransient); // S' serves two agreements
    try {
      this.sessionKey = boxKey(transient, serverTransientKey);
    } catch (err) {
      throw rekeyError(err, "server's transient key is a low-order point");
    }
    // vouch = Box[C' ‖ S](C → S', "VOUCH---" ‖ V): proves that the owner of C chose this C'.
    const vouchNonceSuffix = randomBytes(16);
    const vouchKey = boxKey(this.keys.secret, serverTransientKey);
    const vouchPlain = new Uint8Array(64);
    vouchPlain.set(transient.publicKey, 0);
    vouchPlain.set(this.keys.serverKey, 32);
    const vouch = seal(vouchKey, longNonce(VOUCH_PREFIX, vouchNonceSuffix, 0), vouchPlain);
    vouchKey.fill(0);
    // c' has served both of its agreements: it is not needed again.
    wipeSecret(transient);
    this.transient = null;

    const metadata = this.host.localMetadata;
    const inner = new Uint8Array(128 + metadata.length);
    inner.set(this.keys.publicKey, 0);
    inner.set(vouchNonceSuffix, 32);
    inner.set(vouch, 48);
    inner.set(metadata, 128);
    const out = newBytes(INITIATE_MIN_BYTES + metadata.length);
    out.set(INITIATE_NAME, 0);
    out.set(cookie, 9);
    const nonce = this.sendNonce.setPrefix(INITIATE_PREFIX).next();
    nonce.writeCounter(out, 105);
    seal(this.sessionKey, nonce.bytes, inner, out, 113);
    inner.fill(0);
    plain.fill(0);
    this.state = 'ready';
    this.host.sendCommand(out);
  }

  private readReady(body: Uint8Array): void {
    if (!isCommand(body, 'READY') || body.length < READY_MIN_BYTES) {
      throw new ZmtpError(ZmtpErrorCode.CURVE_READY, `expected a READY command of at least ${READY_MIN_BYTES} bytes`);
    }
    const nonce = this.recvNonce.setPrefix(READY_PREFIX);
    if (!nonce.read(body, 6)) throw new ZmtpError(ZmtpErrorCode.CURVE_READY, 'READY nonce is not strictly increasing');
    const metadata = newBytes(body.length - READY_MIN_BYTES);
    if (open(this.sessionKey!, nonce.bytes, body.subarray(14), metadata) === null) {
      throw new ZmtpError(ZmtpErrorCode.CURVE_READY, 'READY box does not authenticate');
    }
    nonce.commit();
    this.codec = new MessageCodec(this.sessionKey!, MESSAGE_CLIENT_PREFIX, MESSAGE_SERVER_PREFIX, this.sendNonce, this.recvNonce);
    this.sessionKey!.fill(0);
    this.sessionKey = null;
    this.state = 'admitting';
    this.host.admitPeer(metadata, this.peerPublicKey, () => {
      // The host may admit asynchronously; a connection destroyed meanwhile stays closed.
      if (this.state !== 'admitting') return;
      this.state = 'done';
      this.host.handshakeComplete();
    });
  }

  private fail(): void {
    this.state = 'failed';
    wipeSecret(this.transient);
    this.transient = null;
    this.helloKey?.fill(0);
    this.helloKey = null;
    this.sessionKey?.fill(0);
    this.sessionKey = null;
  }
}

/**
 * Re-labels a low-order-key error with the handshake context (the code stays
 * ERR_ZMTP_CURVE_KEY); any other error passes through unchanged.
 */
export function rekeyError(err: unknown, message: string): unknown {
  return isZmtpError(err, ZmtpErrorCode.CURVE_KEY) ? new ZmtpError(ZmtpErrorCode.CURVE_KEY, message, { cause: err }) : err;
}
