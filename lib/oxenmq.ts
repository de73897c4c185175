/**
 * The Node entry's OxenMQ (also Bun's and Deno's): the instance of core.ts on Node's transports —
 * tcp://, ipc://, ws:// and wss:// out, listeners on all but wss://, worker threads for worker
 * jobs.
 */
import { OxenMQ as OxenMQCore } from './core.js';
import { nodePlatform } from './node-platform.js';
import type { OxenMQOptions } from './options.js';

export { CategoryHelper, type ConnectRemoteOptions, type ConnectSnOptions, type RequestCallback } from './core.js';

/**
 * An OxenMQ instance: listeners, outgoing connections, commands, requests and the job scheduler,
 * wire-compatible with C++ oxenmq.
 *
 * @example
 * ```ts
 * const server = new OxenMQ();
 * server.addCategory('public', AuthLevel.none).addRequestCommand('echo', (m) => m.sendReply(...m.data));
 * const endpoint = server.listenCurve('tcp://127.0.0.1:0');
 * await server.start();
 *
 * const client = new OxenMQ();
 * await client.start();
 * const port = (await endpoint).split(':').at(-1);
 * const conn = await client.connectRemote(`curve://127.0.0.1:${port}/${Buffer.from(server.pubkey).toString('hex')}`);
 * const [reply] = await client.request(conn, 'public.echo', ['hi']);   // Buffer 'hi'
 * await client.close();
 * await server.close();
 * ```
 */
export class OxenMQ extends OxenMQCore {
  /** A new instance: give it keys to be a CURVE listener or a service node; `start()` it to run. */
  constructor(opts: OxenMQOptions = {}) {
    super(opts, nodePlatform);
  }
}
