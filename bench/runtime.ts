/**
 * The work a peer does for the orchestrator — serve, stop, run one client trial — independent of
 * whether it runs in a forked process (bench/peer.ts) or in the CLI itself (--one-process).
 * Transports are imported lazily so a process that never drives zeromq never loads the addon.
 */
import type { ClientImpl, ClientResult, ClientSpec, ServeInfo, ServeSpec } from './protocol.js';
import type { RunningServer } from './transports/common.js';

interface Transport {
  serve(spec: ServeSpec): Promise<RunningServer>;
  run(spec: ClientSpec): Promise<ClientResult>;
}

function transport(impl: ClientImpl): Promise<Transport> {
  switch (impl) {
    case 'ours':
      return import('./transports/ours.js');
    case 'zeromq':
      return import('./transports/zeromq.js');
    case 'net':
      return import('./transports/net.js');
    case 'oxenmq':
    case 'oxenmq-raw':
      return import('./transports/oxenmq.js');
  }
}

/** Servers this process holds, by id. */
export class PeerRuntime {
  private readonly servers = new Map<number, RunningServer>();
  private nextId = 1;

  /** Binds a server and returns its id and real endpoint. */
  async serve(spec: ServeSpec): Promise<ServeInfo> {
    const server = await (await transport(spec.impl)).serve(spec);
    const id = this.nextId++;
    this.servers.set(id, server);
    return { id, endpoint: server.endpoint };
  }

  /** Closes a server; unknown ids are ignored (stop is idempotent). */
  async stop(id: number): Promise<void> {
    const server = this.servers.get(id);
    this.servers.delete(id);
    await server?.close();
  }

  /** Runs one client trial. */
  async run(spec: ClientSpec): Promise<ClientResult> {
    return (await transport(spec.impl)).run(spec);
  }

  /** Closes every server. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.servers.keys()].map((id) => this.stop(id)));
  }
}
