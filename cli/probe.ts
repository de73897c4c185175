/**
 * A quick look when a connect is slow: does anything accept a connection at the address?
 *
 * An OxenMQ connect, like libzmq's, retries a refused TCP connect until its timeout (libzmq
 * `src/tcp_connecter.cpp` schedules a reconnect), so "nothing listens there" would only show
 * as a timeout. A command-line user wants to hear it at once: one plain socket connect, closed
 * as soon as it succeeds, tells refusal (or a missing socket file, an unknown host) apart.
 */
import net from 'node:net';
import type { Address } from '../lib/index.js';

/** `'connected'`, `'timeout'`, or the system error code of the failed connect. */
export type ProbeResult = 'connected' | 'timeout' | string;

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOENT: 'no such socket file',
  ENOTFOUND: 'host not found',
  EACCES: 'permission denied',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** The failure of a connect as a user reads it: `connection refused (ECONNREFUSED)`. */
export function probeFailure(code: string): string {
  const reason = REASONS[code];
  return reason === undefined ? code : `${reason} (${code})`;
}

/** Opens one socket to the address (IPv4 for host names, as OxenMQ does by default) and closes it. */
export function probe(address: Address, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const host = address.host.startsWith('[') ? address.host.slice(1, -1) : address.host;
    const socket = address.isIpc ? net.connect({ path: address.socket }) : net.connect({ host, port: address.port, family: net.isIP(host) ? 0 : 4 });
    const done = (result: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.once('connect', () => done('connected'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? 'connect failed'));
  });
}
