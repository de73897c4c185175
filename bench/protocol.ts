/**
 * What the benchmark's processes say to each other: the orchestrating CLI asks a peer process
 * (bench/peer.ts, or the same code in-process with --one-process) to serve an endpoint or to run
 * one client trial, and gets plain JSON-able results back over the fork IPC channel.
 *
 * The server side never needs a separate "collect" call: a sink answers the client's END marker
 * with its own counts and timing, so every trial's full result comes back from the client run.
 */

/** Implementations a socket case can run. `net` is the raw net.Socket ceiling (no framing). */
export type SocketImpl = 'ours' | 'zeromq' | 'net';

/** Every implementation a peer process can serve. */
export type Impl = SocketImpl | 'oxenmq';

/**
 * Every client a peer process can drive: `oxenmq` is the public promise API (`await
 * omq.request(…)` per request), `oxenmq-raw` a bare DEALER speaking OxenMQ's request frames.
 */
export type ClientImpl = Impl | 'oxenmq-raw';

/** Deterministic bench keys (hex) so both sides of a split run agree without exchanging them. */
export interface CurveKeys {
  serverPublic: string;
  serverSecret: string;
  clientPublic: string;
  clientSecret: string;
}

/** Ask a peer process to listen. */
export interface ServeSpec {
  impl: Impl;
  /** `sink`: count one-way messages and answer END; `echo`: send every message back. */
  mode: 'sink' | 'echo';
  /** Where to bind, e.g. `tcp://127.0.0.1:0`. */
  endpoint: string;
  /** Expected message size (sink checks it). */
  size: number;
  curve: CurveKeys | null;
  /** Print a libzmq local_thr-style block for every finished sink trial (split --bind runs). */
  verbose?: boolean;
}

/** The bound endpoint and a handle for stop. */
export interface ServeInfo {
  id: number;
  endpoint: string;
}

/** One client trial. */
export interface ClientSpec {
  impl: ClientImpl;
  /** `thr`: one-way stream; `rt`: round trips with `inflight` outstanding; `handshake`: connections. */
  mode: 'thr' | 'rt' | 'handshake';
  endpoint: string;
  size: number;
  inflight: number;
  /** Run for this long (ms) … */
  durationMs: number;
  /** … or exactly this many messages / round trips / connections when non-null. */
  count: number | null;
  curve: CurveKeys | null;
}

/** What the sink measured for one `thr` trial (receiver side, as libzmq local_thr does). */
export interface SinkReport {
  received: number;
  bytes: number;
  /** First message to END, in ns. */
  elapsedNs: number;
  /** Messages with the wrong shape, size or sequence number. */
  bad: number;
}

/** The result of one client trial. */
export interface ClientResult {
  /** Messages (thr), round trips (rt) or connections (handshake) started. */
  sent: number;
  /** Round trips / connections completed (thr: equal to sent once acknowledged). */
  completed: number;
  /** Client-side wall time of the measured part, in ns. */
  elapsedNs: number;
  /** CPU time (user + system) the client's process spent over the measured part, in µs. */
  cpuUs: number;
  /** Replies that were corrupted, out of order or unexpected. */
  bad: number;
  /** thr only: the sink's own report. */
  sink?: SinkReport;
  /** rt only: round-trip time percentiles and mean, in ns. */
  rtt?: { p50: number; p99: number; mean: number };
}

/** Parent → peer requests. */
export type PeerRequest =
  | { id: number; op: 'serve'; spec: ServeSpec }
  | { id: number; op: 'stop'; server: number }
  | { id: number; op: 'run'; spec: ClientSpec }
  | { id: number; op: 'cpu' };

/** Peer → parent answers. */
export type PeerResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
