/**
 * oxenmq-ts: a pure-TypeScript OxenMQ, wire-compatible with C++ oxenmq and libzmq.
 *
 * This entry is the OxenMQ API. The wire layers for plain ZeroMQ use are separate entries:
 * `oxenmq-ts/zmtp` (ROUTER and DEALER sockets, the NULL mechanism), `oxenmq-ts/curve` (the
 * CurveZMQ mechanisms and keys) and `oxenmq-ts/oxenc` (bt-encoding and the key encodings).
 */
export { OxenMQ, CategoryHelper, type ConnectRemoteOptions, type ConnectSnOptions, type RequestCallback } from './oxenmq.js';
export { Gateway, type GatewayOptions, type GatewayRoute } from './gateway.js';
export * from './exports.js';
