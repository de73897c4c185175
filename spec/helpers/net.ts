/** Test plumbing: a recording TCP relay, a condition wait, and temporary IPC paths. */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decoder } from '../../zmtp/decoder.js';
import { type Peer, type ZmtpDealer, type ZmtpRouter, commandName } from '../../zmtp/index.js';
import { nodeBuf } from './bytes.js';

/** A relay between a client and `target`, recording both directions as they pass. */
export class Relay extends EventEmitter {
  readonly c2s: Uint8Array[] = [];
  readonly s2c: Uint8Array[] = [];
  private server!: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  static async start(targetPort: number): Promise<Relay> {
    const r = new Relay();
    r.server = net.createServer((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
      for (const s of [client, upstream]) {
        r.sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          r.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (d) => {
        r.c2s.push(Buffer.from(d));
        upstream.write(d);
        r.emit('data');
      });
      upstream.on('data', (d) => {
        r.s2c.push(Buffer.from(d));
        client.write(d);
        r.emit('data');
      });
    });
    await new Promise<void>((res) => r.server.listen(0, '127.0.0.1', res));
    r.port = (r.server.address() as net.AddressInfo).port;
    return r;
  }

  get endpoint(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => this.server.close(() => res()));
  }
}

/** Names of the ZMTP command frames in a recorded stream (after the greeting). */
export function commandsIn(chunks: Uint8Array[]): string[] {
  const names: string[] = [];
  const d = new Decoder(
    { onGreeting: () => {}, onFrame: (flags, body) => flags & 0x04 && names.push(commandName(body)) },
    { maxMessageSize: -1 },
  );
  try {
    for (const c of chunks) d.push(c);
  } catch {
    // a recording may end mid-frame or hold CURVE boxes; what decoded so far is what we report
  }
  return names;
}

/** Number of CurveZMQ MESSAGE boxes in a recorded stream (libzmq sends them as data frames, flags 0). */
export function messageBoxesIn(chunks: Uint8Array[]): number {
  let n = 0;
  const d = new Decoder(
    { onGreeting: () => {}, onFrame: (_flags, body) => void (body.length > 8 && nodeBuf(body).toString('latin1', 0, 8) === '\x07MESSAGE' && n++) },
    { maxMessageSize: -1 },
  );
  try {
    for (const c of chunks) d.push(c);
  } catch {
    // a partial frame at the end of a recording
  }
  return n;
}

/** Resolves once `cond()` holds, re-checking on every `emitter` event (or every 5 ms). */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000, emitter?: EventEmitter): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((res) => {
      const t = setTimeout(done, 5);
      function done() {
        clearTimeout(t);
        emitter?.off('data', done);
        res();
      }
      emitter?.once('data', done);
    });
  }
}

/** Resolves with the next emission of `event` (arguments as an array), or rejects after a timeout. */
export function once<T extends unknown[]>(target: { once: unknown; off: unknown }, event: string, timeoutMs = 5000): Promise<T> {
  const emitter = target as EventEmitter;
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out waiting for '${event}'`));
    }, timeoutMs);
    function on(...args: unknown[]) {
      clearTimeout(t);
      resolve(args as T);
    }
    emitter.once(event, on);
  });
}

/** A fresh directory for IPC socket files. */
export function tmpIpcDir(): string {
  return mkdtempSync(join(tmpdir(), 'omq-'));
}

/** A TCP port that nothing listens on (bound then released). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

/** Resolves with the dealer's next message (copied). */
export function nextMessage(d: ZmtpDealer): Promise<Uint8Array[]> {
  return new Promise((res) => (d.onMessage = (f) => res(f.map((b) => Buffer.from(b)))));
}

/** Resolves with the router's next message (copied), its route and the peer it came from. */
export function nextRouted<A>(r: ZmtpRouter<A>): Promise<{ frames: Uint8Array[]; route: Uint8Array; peer: Peer<A> }> {
  return new Promise((res) => (r.onMessage = (frames, route, peer) => res({ frames: frames.map((b) => Buffer.from(b)), route: Buffer.from(route), peer })));
}

/** An endpoint for a fresh listener on `transport` (ipc paths in a new temporary directory). */
export function listenEndpoint(transport: 'tcp' | 'ipc', name: string): string {
  return transport === 'tcp' ? 'tcp://127.0.0.1:0' : `ipc://${join(tmpIpcDir(), name)}`;
}
