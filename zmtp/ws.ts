/**
 * The WebSocket transport's two ends (ZeroMQ RFC 45, ZWS 2.0; libzmq `src/ws_listener.cpp`,
 * `src/ws_connecter.cpp`, `src/ws_engine.cpp`): a listener that upgrades HTTP requests on its
 * path into {@link WsStream}s for a ROUTER, and a connector that opens one for a DEALER.
 *
 * The RFC 6455 layer is the `ws` package, an optional peer dependency loaded only when a ws://
 * endpoint is used; without it, using one fails with ERR_ZMTP_WS_UNAVAILABLE.
 *
 * The listener refuses, before any ZMTP, and ends only that connection with a typed error: a
 * request for another path (404), a browser Origin it is not told to allow (403), a request with
 * no ZWS 2.0 subprotocol our mechanism speaks (400), a plain HTTP request (426), a malformed HTTP
 * request (400) and one that has not upgraded within the handshake timeout. It picks the
 * subprotocol by its own preference order among those the client offers (libzmq takes the
 * client's first; for libzmq's own offer, `ZWS2.0/NULL,ZWS2.0`, both choose `ZWS2.0/NULL`).
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type * as WsModule from 'ws';
import type { TimerHandle } from './clock.js';
import type { Endpoint } from './endpoint.js';
import { type AllowOrigin, originAllowed } from './origin.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import type { ResolvedZmtpOptions } from './options.js';
import { WsStream, ZWS_BARE, ZWS_CURVE, ZWS_CURVE_TOKEN, ZWS_NULL, ZWS_NULL_TOKEN, subprotocolMechanism } from './ws-stream.js';

type Ws = typeof WsModule;
/** A ws:// or wss:// endpoint. */
export type WsEndpoint = Extract<Endpoint, { transport: 'ws' | 'wss' }>;

let loader: () => Promise<Ws> = () => import('ws');
let loaded: Promise<Ws> | undefined;

/** Loads `ws` once; rejects with ERR_ZMTP_WS_UNAVAILABLE when it is not installed. */
export function loadWs(): Promise<Ws> {
  loaded ??= loader().then(
    (m) => ((m as { WebSocketServer?: unknown }).WebSocketServer ? m : ((m as unknown as { default: Ws }).default ?? m)),
    (err: unknown) => {
      loaded = undefined;
      throw new ZmtpError(ZmtpErrorCode.WS_UNAVAILABLE, 'ws:// endpoints need the optional "ws" package: npm install ws', { cause: err });
    },
  );
  return loaded;
}

/** @internal Tests replace the module loader (to see the error when `ws` is missing). */
export function setWsLoader(load: (() => Promise<Ws>) | undefined): void {
  loader = load ?? (() => import('ws'));
  loaded = undefined;
}

/** The subprotocols a socket with this mechanism accepts (listener) or offers (connector), in order. */
export function defaultSubprotocols(mechanism: string, role: 'listen' | 'connect'): readonly string[] {
  if (mechanism === 'CURVE') return role === 'listen' ? [ZWS_CURVE, ZWS_CURVE_TOKEN] : [ZWS_CURVE];
  if (mechanism === 'NULL') return role === 'listen' ? [ZWS_NULL, ZWS_NULL_TOKEN, ZWS_BARE] : [ZWS_NULL];
  return [];
}

function checkSubprotocols(list: readonly string[], mechanism: string): void {
  for (const p of list) {
    if (subprotocolMechanism(p) !== mechanism) {
      throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, `subprotocol ${JSON.stringify(p)} does not select the ${mechanism} mechanism`);
    }
  }
}

/** Parameters of {@link listenWs}. */
export interface WsListenParams {
  endpoint: WsEndpoint;
  /** Our mechanism's name: only subprotocols that select it are accepted. */
  mechanism: string;
  options: ResolvedZmtpOptions;
  allowOrigin: AllowOrigin | undefined;
  /** Accepted subprotocols in our order of preference (default {@link defaultSubprotocols}). */
  subprotocols: readonly string[] | undefined;
  /** An upgraded connection, to run ZMTP on; call `stream.start()` once listening to it. */
  accept(stream: WsStream): void;
  /** A connection refused before any ZMTP ran. */
  refused(err: ZmtpError, address: string): void;
}

/** A bound ws listener. */
export interface WsServerHandle {
  /** The bound endpoint (real port). */
  readonly endpoint: WsEndpoint;
  /** Stops listening and destroys connections that have not upgraded (upgraded ones are the router's). */
  close(): Promise<void>;
}

const STATUS: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 426: 'Upgrade Required' };

/** Binds a ws listener; rejects with BIND_FAILED, BAD_ENDPOINT or WS_UNAVAILABLE. */
export async function listenWs(p: WsListenParams): Promise<WsServerHandle> {
  const ep = p.endpoint;
  if (ep.transport !== 'ws') {
    throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, 'wss:// cannot be listened on: bind ws:// behind a TLS terminator');
  }
  const subprotocols = p.subprotocols ?? defaultSubprotocols(p.mechanism, 'listen');
  checkSubprotocols(subprotocols, p.mechanism);
  const { WebSocketServer } = await loadWs();
  const o = p.options;
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
    // One flags byte besides the (possibly boxed) frame that maxMessageSize bounds.
    maxPayload: o.maxMessageSize < 0 ? 0 : o.maxMessageSize + 1,
  });
  // RFC 6455 wants subprotocols to be tokens, which libzmq's `ZWS2.0/NULL` is not ('/' is a
  // separator), and ws enforces that: the subprotocol is negotiated here, ws never sees it.
  const chosen = new WeakMap<http.IncomingMessage, string>();
  wss.on('headers', (headers, req) => {
    const c = chosen.get(req);
    if (c !== undefined) headers.push(`Sec-WebSocket-Protocol: ${c}`);
  });
  const server = http.createServer();
  // Connections not yet upgraded, with the timer that ends them if they stall.
  const pending = new Map<Duplex, TimerHandle | null>();
  const address = (s: Duplex) => (s as Socket).remoteAddress ?? 'localhost';
  // Upgrades in progress per remote address, for maxHandshakesPerAddress.
  const upgrading = new Map<string, number>();
  /** `s` is no longer upgrading (upgraded, refused, timed out or closed). */
  const settle = (s: Duplex) => {
    if (!pending.has(s)) return;
    const t = pending.get(s);
    if (t !== undefined && t !== null) o.clock.clearTimeout(t);
    pending.delete(s);
    const from = address(s);
    const left = (upgrading.get(from) ?? 1) - 1;
    if (left > 0) upgrading.set(from, left);
    else upgrading.delete(from);
  };
  const refuse = (s: Duplex, status: number, err: ZmtpError) => {
    settle(s);
    p.refused(err, address(s));
    if (s.writable) {
      s.end(`HTTP/1.1 ${status} ${STATUS[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      // Never wait long for the peer to close its side.
      const t = o.clock.setTimeout(() => s.destroy(), 1000);
      s.once('close', () => o.clock.clearTimeout(t));
    } else {
      s.destroy();
    }
  };
  const upgradeError = (message: string) => new ZmtpError(ZmtpErrorCode.WS_UPGRADE, message);

  // Connections still upgrading count against the handshake limits as handshakes do (the
  // router counts them from the upgrade on): a flood of idle sockets holds nothing for long.
  server.on('connection', (s: Socket) => {
    s.setNoDelay(true);
    const from = address(s);
    const n = upgrading.get(from) ?? 0;
    if ((o.maxHandshakes >= 0 && pending.size >= o.maxHandshakes) || (o.maxHandshakesPerAddress >= 0 && n >= o.maxHandshakesPerAddress)) {
      p.refused(new ZmtpError(ZmtpErrorCode.WS_UPGRADE, 'too many WebSocket upgrades in progress'), from);
      s.destroy();
      return;
    }
    upgrading.set(from, n + 1);
    const timer =
      o.handshakeTimeout > 0
        ? o.clock.setTimeout(() => {
            if (!pending.has(s)) return;
            settle(s);
            p.refused(new ZmtpError(ZmtpErrorCode.HANDSHAKE_TIMEOUT, `WebSocket upgrade did not complete within ${o.handshakeTimeout} ms`), address(s));
            s.destroy();
          }, o.handshakeTimeout)
        : null;
    pending.set(s, timer);
    s.once('close', () => settle(s));
  });
  server.on('clientError', (_err, s: Duplex) => refuse(s, 400, upgradeError('malformed HTTP request before the WebSocket upgrade')));
  server.on('request', (req, res) => {
    settle(req.socket);
    p.refused(upgradeError('plain HTTP request on a ws listener (no WebSocket upgrade)'), address(req.socket));
    res.writeHead(426, { Connection: 'close', 'Content-Length': '0' }).end();
  });
  wss.on('wsClientError', (err, s) => refuse(s, 400, upgradeError(`bad WebSocket upgrade request: ${err.message}`)));
  server.on('upgrade', (req: http.IncomingMessage, s: Duplex, head: Buffer) => {
    if (!pending.has(s)) {
      s.destroy();
      return;
    }
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if ((q < 0 ? url : url.slice(0, q)) !== ep.path) {
      refuse(s, 404, upgradeError('WebSocket upgrade for another path'));
      return;
    }
    const origin = req.headers.origin;
    if (!originAllowed(p.allowOrigin, origin)) {
      refuse(s, 403, upgradeError('WebSocket upgrade from an Origin that is not allowed'));
      return;
    }
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((x) => x.trim());
    const protocol = subprotocols.find((x) => offered.includes(x));
    if (protocol === undefined) {
      refuse(s, 400, upgradeError(`no ZWS 2.0 subprotocol for ${p.mechanism} offered`));
      return;
    }
    chosen.set(req, protocol);
    delete req.headers['sec-websocket-protocol'];
    wss.handleUpgrade(req, s, head, (ws) => {
      settle(s);
      const stream = new WsStream({
        ws,
        raw: s as Socket,
        protocol,
        socketType: 'ROUTER',
        remoteAddress: address(s),
        masked: false,
        holdLimit: holdLimit(o),
      });
      p.accept(stream);
    });
  });

  const listenArg = { host: hostFor(ep.host, o.ipv6), port: ep.port, ipv6Only: false };
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      server.close();
      reject(new ZmtpError(ZmtpErrorCode.BIND_FAILED, `cannot bind ws://${ep.host}:${ep.port}${ep.path}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(listenArg, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => o.logger.error?.('zmtp: ws listener failed', err));
  const a = server.address() as import('node:net').AddressInfo;
  const endpoint: WsEndpoint = { transport: 'ws', host: a.address, port: a.port, path: ep.path };
  return {
    endpoint,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of [...pending.keys()]) {
          settle(s);
          s.destroy();
        }
        wss.close();
      }),
  };
}

function hostFor(host: string, ipv6: boolean): string {
  if (host === '*') return ipv6 ? '::' : '0.0.0.0';
  if (host === 'localhost' && !ipv6) return '127.0.0.1';
  return host;
}

/**
 * What a bare ZWS2.0 peer may send while it is being admitted (it cannot know when that is done):
 * one largest message and some small ones.
 */
function holdLimit(o: ResolvedZmtpOptions): number {
  return (o.maxMessageSize >= 0 ? o.maxMessageSize : 64 * 1024 * 1024) + 64 * 1024;
}

/** Parameters of {@link connectWs}. */
export interface WsConnectParams {
  endpoint: WsEndpoint;
  mechanism: string;
  options: ResolvedZmtpOptions;
  /** Subprotocols to offer (default {@link defaultSubprotocols}). */
  subprotocols: readonly string[] | undefined;
  /** The WebSocket is open: run ZMTP on it, then call `stream.start()`. */
  open(stream: WsStream): void;
  /** The attempt failed before the WebSocket opened (called at most once, never after open). */
  failed(err: ZmtpError): void;
}

/** Opens a WebSocket for a DEALER; the handle cancels the attempt. */
export function connectWs(p: WsConnectParams): { destroy(): void } {
  let cancelled = false;
  let socket: WsModule.WebSocket | null = null;
  const subprotocols = p.subprotocols ?? defaultSubprotocols(p.mechanism, 'connect');
  let done = false;
  const fail = (err: ZmtpError) => {
    if (done || cancelled) return;
    done = true;
    p.failed(err);
  };
  try {
    checkSubprotocols(subprotocols, p.mechanism);
  } catch (err) {
    queueMicrotask(() => fail(err as ZmtpError));
    return { destroy: () => (cancelled = true) };
  }
  loadWs().then(
    ({ WebSocket }) => {
      if (cancelled) return;
      const ep = p.endpoint;
      const o = p.options;
      const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
      // The subprotocol is negotiated here, not by ws (see listenWs).
      const ws = new WebSocket(`${ep.transport}://${host}:${ep.port}${ep.path}`, [], {
        headers: { 'Sec-WebSocket-Protocol': subprotocols.join(',') },
        perMessageDeflate: false,
        followRedirects: false,
        maxPayload: o.maxMessageSize < 0 ? 0 : o.maxMessageSize + 1,
        handshakeTimeout: o.handshakeTimeout > 0 ? o.handshakeTimeout : undefined,
        family: o.ipv6 ? 0 : 4,
      });
      socket = ws;
      let raw: Socket | null = null;
      let protocol: string | undefined;
      ws.on('upgrade', (res) => {
        raw = res.socket as Socket;
        raw.setNoDelay(true);
        const answer = res.headers['sec-websocket-protocol'];
        delete res.headers['sec-websocket-protocol'];
        protocol = typeof answer === 'string' && subprotocols.includes(answer) ? answer : undefined;
      });
      ws.on('unexpected-response', (_req, res) => {
        fail(new ZmtpError(ZmtpErrorCode.WS_UPGRADE, `server refused the WebSocket upgrade with HTTP ${res.statusCode ?? '?'}`));
        ws.terminate();
      });
      const onError = (err: Error & { code?: string }) => {
        const msg = err.message;
        if (/subprotocol/i.test(msg) || /Sec-WebSocket/i.test(msg) || /Opening handshake/i.test(msg)) {
          fail(new ZmtpError(msg.includes('timed out') ? ZmtpErrorCode.HANDSHAKE_TIMEOUT : ZmtpErrorCode.WS_UPGRADE, `WebSocket upgrade failed: ${msg}`, { cause: err }));
        } else {
          fail(new ZmtpError(ZmtpErrorCode.TRANSPORT, `connect failed: ${err.code ?? msg}`, { cause: err }));
        }
      };
      ws.on('error', onError);
      ws.once('open', () => {
        ws.off('error', onError);
        if (cancelled || done) {
          ws.terminate();
          return;
        }
        done = true;
        if (protocol === undefined || raw === null) {
          ws.terminate();
          p.failed(new ZmtpError(ZmtpErrorCode.WS_UPGRADE, 'server answered with no subprotocol we offered'));
          return;
        }
        p.open(
          new WsStream({ ws, raw, protocol, socketType: 'DEALER', remoteAddress: ep.host, masked: true, holdLimit: holdLimit(o) }),
        );
      });
    },
    (err: ZmtpError) => fail(err),
  );
  return {
    destroy: () => {
      cancelled = true;
      socket?.terminate();
    },
  };
}
