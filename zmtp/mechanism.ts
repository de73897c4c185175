/**
 * The seam between the connection engine and a security mechanism (NULL in zmtp/null.ts, CURVE in
 * curve/). The engine owns the socket, the greeting, the frame codec, ERROR handling, timers and
 * the peer checks; a mechanism owns only its handshake commands and, after the handshake, the
 * optional per-frame transform (CurveZMQ MESSAGE boxes).
 */
import type { ZmtpError } from './errors.js';

/** Which side of the security handshake this is: the connecting side is always the client. */
export type MechanismRole = 'client' | 'server';

/** What a mechanism may ask of the connection that runs it. */
export interface MechanismHost {
  /** Writes one plaintext command frame (`body` = name_len ‖ name ‖ data). */
  sendCommand(body: Uint8Array): void;
  /** Our own metadata (Socket-Type, Identity) as an encoded property list. */
  readonly localMetadata: Uint8Array;
  /**
   * Validates the peer's metadata (Socket-Type compatibility, Identity) and, on a listener, runs
   * the authentication hook with the peer's long-term public key (CURVE) or none (NULL). Calls
   * `accepted` once the peer is admitted (possibly later, the hook may be asynchronous). On a
   * denial the host itself sends ERROR and closes; `accepted` is then never called.
   * Throws a ZmtpError for malformed or incompatible metadata.
   */
  admitPeer(metadata: Uint8Array, publicKey: Uint8Array | undefined, accepted: () => void): void;
  /** The handshake has finished in both directions: data frames may now flow. */
  handshakeComplete(): void;
}

/** Per-frame transform used after the handshake (CurveZMQ MESSAGE); NULL has none. */
export interface FrameCodec {
  /**
   * Encodes one outgoing frame (`flags` = MORE/COMMAND of the logical frame) and returns the
   * complete wire frame, header included, ready to write.
   */
  encodeFrame(flags: number, body: Uint8Array): Uint8Array;
  /**
   * Optional fast path: encodes like {@link FrameCodec.encodeFrame} but straight into `out` at
   * `offset` (which has room for `body.length + FrameCodec.overhead + 9` bytes) and returns the
   * number of bytes written. Lets the engine batch small frames without an allocation each.
   */
  encodeFrameInto?(flags: number, body: Uint8Array, out: Uint8Array, offset: number): number;
  /** Bytes an encoded frame adds to its body, header excluded (CurveZMQ MESSAGE: 33). */
  readonly overhead?: number;
  /**
   * Decodes one incoming wire frame (`wireFlags` as read; `body` the frame's own bytes, a region
   * of a received chunk that is never reused, or the decoder's private copy) into the logical
   * payload, which may be a view of `body` decrypted in place; the logical MORE/COMMAND flags are
   * left in {@link FrameCodec.lastFlags}. Throws a ZmtpError (e.g. ERR_ZMTP_CURVE_MESSAGE) on
   * anything bad.
   */
  decodeFrame(wireFlags: number, body: Uint8Array): Uint8Array;
  /** Logical flags of the frame most recently returned by decodeFrame. */
  lastFlags: number;
}

/** One connection's instance of a security mechanism. */
export interface Mechanism {
  /**
   * Right after our greeting, in the same write: send the first handshake command(s), if this
   * role starts. The peer's greeting has not arrived yet, so nothing sent here may depend on it.
   */
  start(): void;
  /**
   * A handshake command from the peer (ERROR is handled by the host and never passed here).
   * Throws a ZmtpError to abort the connection.
   */
  onCommand(body: Uint8Array): void;
  /** After handshakeComplete: the frame transform, or null if frames travel in the clear. */
  readonly codec: FrameCodec | null;
  /** The peer's long-term public key once known (CURVE), for logs and the auth hook. */
  readonly peerPublicKey?: Uint8Array;
  /** Wipes secrets; called once when the connection ends. */
  destroy(): void;
}

/** Creates mechanism instances; one factory per socket, one instance per connection. */
export interface MechanismFactory {
  /** The greeting's mechanism name ("NULL", "CURVE"): at most 20 ASCII bytes. */
  readonly name: string;
  /** A new mechanism for one connection, on the given side of the handshake. */
  create(host: MechanismHost, role: MechanismRole): Mechanism;
}

export type { ZmtpError };
