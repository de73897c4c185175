/**
 * The Node transports of the ZMTP layer: tcp:// and ipc:// over node:net, ws:// and wss:// over
 * the `ws` package, the ROUTER that listens on them, and the ZmtpDealer that connects with them.
 * Everything else in zmtp/ is runtime-neutral and reached through index.ts; this file is what a
 * browser build leaves out.
 */
import net from 'node:net';
import type { Connector } from './connector.js';
import { ZmtpDealer as NeutralDealer, type DealerOptions } from './dealer.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import { connectWs } from './ws.js';

/** Opens tcp:// and ipc:// connections with node:net and ws:// and wss:// ones with `ws`. */
export const nodeConnector: Connector = (p) => {
  const ep = p.endpoint;
  if (ep.transport === 'ws' || ep.transport === 'wss') {
    return connectWs({ ...p, endpoint: ep, open: (stream) => p.open(stream, ep.host) });
  }
  const socket =
    ep.transport === 'ipc'
      ? net.connect({ path: ep.path })
      : net.connect({ host: ep.host, port: ep.port, family: p.options.ipv6 ? 0 : 4, noDelay: true });
  const onError = (err: Error) => {
    socket.destroy();
    p.failed(new ZmtpError(ZmtpErrorCode.TRANSPORT, `connect failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }));
  };
  socket.once('error', onError);
  socket.once('connect', () => {
    socket.off('error', onError);
    p.open(socket, ep.transport === 'ipc' ? 'localhost' : (socket.remoteAddress ?? ep.host));
  });
  return socket;
};

/**
 * A ZMTP DEALER over Node's transports (tcp://, ipc://, ws://, wss://): the runtime-neutral
 * dealer with {@link nodeConnector} unless `options.connector` says otherwise.
 */
export class ZmtpDealer extends NeutralDealer {
  constructor(opts: DealerOptions = {}) {
    super({ ...opts, connector: opts.connector ?? nodeConnector });
  }
}

export { type RouterEvents, type RouterMessageHandler, type RouterOptions, ZmtpRouter } from './router.js';
