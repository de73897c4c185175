/**
 * ZMQ endpoint strings: `tcp://host:port` (host `*` = every interface; port 0 = any free port;
 * IPv6 literals in brackets), `ipc://path` (Unix domain sockets), and `ws://host:port/path` /
 * `wss://host:port/path` (ZWS 2.0 over WebSocket; the path defaults to `/`, as libzmq
 * `src/ws_address.cpp` has it).
 */
import { ZmtpError, ZmtpErrorCode } from './errors.js';

export type Endpoint =
  | { transport: 'tcp'; host: string; port: number }
  | { transport: 'ipc'; path: string }
  | { transport: 'ws' | 'wss'; host: string; port: number; path: string };

/** Parses an endpoint; throws BAD_ENDPOINT with the reason. */
export function parseEndpoint(endpoint: string): Endpoint {
  if (typeof endpoint !== 'string') throw new TypeError('endpoint must be a string');
  if (endpoint.startsWith('ipc://')) {
    const path = endpoint.slice(6);
    if (path.length === 0) throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, 'ipc endpoint has an empty path');
    return { transport: 'ipc', path };
  }
  const ws = endpoint.startsWith('ws://') ? 'ws' : endpoint.startsWith('wss://') ? 'wss' : undefined;
  if (ws !== undefined) {
    const rest = endpoint.slice(ws.length + 3);
    const close = rest.startsWith('[') ? rest.indexOf(']') : -1;
    const slash = rest.indexOf('/', close + 1);
    const path = slash < 0 ? '/' : rest.slice(slash);
    if (!/^\/[\x21-\x7e]*$/.test(path) || path.includes('?') || path.includes('#')) {
      throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, `${ws} endpoint path must be printable ASCII without ?, # or spaces`);
    }
    const { host, port } = parseHostPort(slash < 0 ? rest : rest.slice(0, slash), ws);
    return { transport: ws, host, port, path };
  }
  if (!endpoint.startsWith('tcp://')) {
    throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, 'endpoint must start with tcp://, ipc://, ws:// or wss://');
  }
  return { transport: 'tcp', ...parseHostPort(endpoint.slice(6), 'tcp') };
}

function parseHostPort(rest: string, transport: string): { host: string; port: number } {
  const colon = rest.lastIndexOf(':');
  if (colon <= 0) throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, `${transport} endpoint needs host:port`);
  let host = rest.slice(0, colon);
  const portText = rest.slice(colon + 1);
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, 'unterminated IPv6 literal');
    host = host.slice(1, -1);
  } else if (host.includes(':')) {
    throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, 'IPv6 hosts must be written in brackets');
  }
  if (host.length === 0) throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, `${transport} endpoint has an empty host`);
  if (!/^[0-9]{1,5}$/.test(portText) && portText !== '*') {
    throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, `${transport} endpoint port must be a number`);
  }
  const port = portText === '*' ? 0 : Number(portText);
  if (port > 65535) throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, `${transport} port must be at most 65535`);
  return { host, port };
}

/** Formats an endpoint back into its string form. */
export function formatEndpoint(e: Endpoint): string {
  if (e.transport === 'ipc') return `ipc://${e.path}`;
  const hostPort = `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
  if (e.transport === 'tcp') return `tcp://${hostPort}`;
  return `${e.transport}://${hostPort}${e.path}`;
}
