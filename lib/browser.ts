/**
 * oxenmq-ts for browsers (the package's `browser` export condition): the OxenMQ API with no Node
 * built-in anywhere in its module graph, so a bundler (`esbuild --platform=browser`, Vite,
 * webpack) takes it without shims or polyfills.
 *
 * What differs from the Node entry:
 * - connections go out over ws:// and wss:// only (the page's WebSocket), plain or CURVE; an
 *   instance cannot listen (listenPlain/listenCurve throw ERR_OMQ_UNSUPPORTED);
 * - bytes are Uint8Arrays (under Node they are Buffers, which are Uint8Arrays);
 * - batches and jobs run on the page's event loop; worker jobs fail with ERR_OMQ_UNSUPPORTED;
 * - X25519 is @noble/curves (Web Crypto's X25519 is asynchronous only; the handshake's steps are
 *   synchronous), randomness Web Crypto's getRandomValues.
 *
 * To reach a C++ oxenmq node from a page, put the Node entry's Gateway in front of it (CURVE to
 * the page, curve:// to the node), or connect plain to the node's ws:// listener (bare ZWS2.0).
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { useNobleX25519 } from '../curve/keys.js';
import { browserConnector } from '../zmtp/ws-browser.js';
import { OxenMQ as OxenMQCore } from './core.js';
import type { OxenMQOptions } from './options.js';
import type { Platform } from './platform.js';

export { CategoryHelper, type ConnectRemoteOptions, type ConnectSnOptions, type RequestCallback } from './core.js';
export * from './exports.js';

const browserPlatform: Platform = {
  connector: browserConnector(),
  parallelism: Math.max(1, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1),
};

/**
 * An OxenMQ instance in a browser: connects to ws:// and wss:// addresses (`ws+curve://…/PUBKEY`
 * for CURVE), makes requests and sends commands, and serves commands its peers send on those
 * connections.
 *
 * @example
 * ```ts
 * import { OxenMQ } from 'oxenmq-ts';
 *
 * const omq = new OxenMQ();
 * const pushed: Uint8Array[][] = [];
 * omq.addCategory('page', 0).addCommand('notify', (m) => void pushed.push(m.data));
 * await omq.start();
 * // The server's ws listener and its public key, as the page was given them.
 * const conn = await omq.connectRemote('ws+curve://node.example:8080/oxenmq/' + serverPubkeyHex);
 * const [reply] = await omq.request(conn, 'rpc.get_info');
 * ```
 */
export class OxenMQ extends OxenMQCore {
  /** A new instance on the page's WebSocket; `start()` it to run. */
  constructor(opts: OxenMQOptions = {}) {
    useNobleX25519(x25519);
    super(opts, browserPlatform);
  }
}
