/**
 * What a ZMTP connection needs of its byte stream: exactly the part of `net.Socket` it uses. A
 * net.Socket (tcp, ipc) is one as it is; the WebSocket transport (ws-stream.ts) is another, which
 * turns ZWS 2.0 messages (ZeroMQ RFC 45) into the ZMTP 3.1 byte stream the connection decodes and
 * back, so the connection engine, its mechanisms and its heartbeats run unchanged over either.
 */
import type { EncoderSocket } from './encoder.js';

/** The events a connection listens to. */
export interface ZmtpStreamEvents {
  data: [chunk: Uint8Array];
  drain: [];
  error: [err: Error];
  close: [];
  end: [];
}

/** A duplex byte stream under a ZMTP connection. */
export interface ZmtpStream extends EncoderSocket {
  /** Writes bytes; false once the caller should wait for 'drain'. */
  write(chunk: Uint8Array): boolean;
  /** Ends the stream gracefully once what was written has been handed over. */
  end(): void;
  /** Closes the stream at once. */
  destroy(): void;
  readonly destroyed: boolean;
  /** The peer's address (no port), when known. */
  readonly remoteAddress?: string | undefined;
  /** Stops reading ('data' events) until resume(). */
  pause(): unknown;
  resume(): unknown;
  /** Disables Nagle's algorithm where the stream has it. */
  setNoDelay?(noDelay: boolean): unknown;
  /**
   * A transport-level keepalive to use for heartbeat PINGs instead of a ZMTP PING command, where
   * the transport has its own (a WebSocket ping, RFC 6455 §5.5.2: libzmq's ws engine sends and
   * answers only those). Its answer, and the peer's own keepalives, arrive as an empty 'data'
   * chunk, which the connection counts as a sign of life (a whole frame of the transport).
   */
  ping?(): void;
  on<K extends keyof ZmtpStreamEvents>(event: K, listener: (...args: ZmtpStreamEvents[K]) => void): unknown;
  once<K extends keyof ZmtpStreamEvents>(event: K, listener: (...args: ZmtpStreamEvents[K]) => void): unknown;
  off<K extends keyof ZmtpStreamEvents>(event: K, listener: (...args: ZmtpStreamEvents[K]) => void): unknown;
}
