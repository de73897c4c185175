/**
 * ZMQ endpoint strings: `tcp://host:port` (host `*` = every interface; port 0 = any free port;
 * IPv6 literals in brackets) and `ipc://path` (Unix domain sockets).
 */
import { ZmtpError, ZmtpErrorCode } from './errors.js';

export type Endpoint =
  | { transport: 'tcp'; host: string; port: number }
  | { transport: 'ipc'; path: string };

/** Parses an endpoint; throws BAD_ENDPOINT with the reason. */
export function parseEndpoint(endpoint: string): Endpoint {
  if (typeof endpoint !== 'string') throw new TypeError('endpoint must be a string');
  if (endpoint.startsWith('ipc://')) {
    const path = endpoint.slice(6);
    if (path.length === 0) throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, 'ipc endpoint has an empty path');
    return { transport: 'ipc', path };
  }
  if (!endpoint.startsWith('tcp://')) {
    throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, 'endpoint must start with tcp:// or ipc://');
  }
  const rest = endpoint.slice(6);
  const colon = rest.lastIndexOf(':');
  if (colon <= 0) throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, 'tcp endpoint needs host:port');
  let host = rest.slice(0, colon);
  const portText = rest.slice(colon + 1);
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, 'unterminated IPv6 literal');
    host = host.slice(1, -1);
  } else if (host.includes(':')) {
    throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, 'IPv6 hosts must be written in brackets');
  }
  if (host.length === 0) throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, 'tcp endpoint has an empty host');
  if (!/^[0-9]{1,5}$/.test(portText) && portText !== '*') {
    throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, 'tcp endpoint port must be a number');
  }
  const port = portText === '*' ? 0 : Number(portText);
  if (port > 65535) throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, 'tcp port must be at most 65535');
  return { transport: 'tcp', host, port };
}

/** Formats an endpoint back into its string form. */
export function formatEndpoint(e: Endpoint): string {
  if (e.transport === 'ipc') return `ipc://${e.path}`;
  return `tcp://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
}
