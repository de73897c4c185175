/**
 * The seam between a DEALER and its transport: a connector opens the byte stream of one
 * connection attempt to an endpoint and reports the open stream or the failure. Under Node,
 * tcp://, ipc:// and ws:// have connectors over net and the `ws` package (node.ts); in a browser,
 * ws:// and wss:// have one over the platform's WebSocket (ws-browser.ts).
 */
import type { Endpoint } from './endpoint.js';
import type { ZmtpError } from './errors.js';
import type { ResolvedZmtpOptions } from './options.js';
import type { ZmtpStream } from './stream.js';

/** What a connector is given for one attempt. */
export interface ConnectParams {
  endpoint: Endpoint;
  /** The security mechanism's name (it picks the ZWS 2.0 subprotocol). */
  mechanism: string;
  options: ResolvedZmtpOptions;
  /** ws:// only: the ZWS 2.0 subprotocols to offer, when not the default for the mechanism. */
  subprotocols: readonly string[] | undefined;
  /**
   * The stream is open. The dealer runs its connection on it at once, then calls `start` when the
   * stream has one (a WebSocket stream hands over the greeting it synthesizes then).
   */
  open(stream: ZmtpStream & { start?(): void }, remoteAddress: string): void;
  /** The attempt failed (a retryable ZmtpError code is retried by the dealer). */
  failed(err: ZmtpError): void;
}

/** Starts one connection attempt; `destroy()` abandons it. */
export type Connector = (p: ConnectParams) => { destroy(): void };
