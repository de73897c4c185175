/** A hand-driven ZMTP peer over a raw socket, for tests that need to misbehave on purpose. */
import net from 'node:net';
import { Decoder } from '../../zmtp/decoder.js';
import { frameHeader } from '../../zmtp/frame.js';
import { encodeGreeting } from '../../zmtp/greeting.js';
import { commandName, encodeCommand, encodeMetadata } from '../../zmtp/index.js';

export interface RawFrame {
  flags: number;
  body: Buffer;
}

export class RawPeer {
  readonly frames: RawFrame[] = [];
  greeting: Buffer | null = null;
  closed = false;
  error: unknown = null;
  private readonly decoder: Decoder;
  private waiters: (() => void)[] = [];

  constructor(readonly socket: net.Socket) {
    this.decoder = new Decoder(
      {
        onGreeting: (g) => (this.greeting = Buffer.from(g)),
        onFrame: (flags, body) => this.frames.push({ flags, body: Buffer.from(body) }),
      },
      { maxMessageSize: -1 },
    );
    socket.on('data', (d) => {
      try {
        this.decoder.push(d);
      } catch (err) {
        this.error = err;
      }
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects to a TCP port. */
  static connect(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }

  write(...chunks: Uint8Array[]): void {
    for (const c of chunks) this.socket.write(c);
  }

  sendGreeting(mechanism = 'NULL'): void {
    this.write(encodeGreeting(mechanism));
  }

  sendCommand(name: string, data?: Uint8Array): void {
    const body = encodeCommand(name, data);
    this.write(frameHeader(0x04, body.length), body);
  }

  sendReady(socketType: string, identity: Uint8Array = Buffer.alloc(0)): void {
    this.sendCommand('READY', encodeMetadata([['Socket-Type', Buffer.from(socketType)], ['Identity', identity]]));
  }

  /** Sends one multipart message as plain frames. */
  sendMessage(...parts: (string | Uint8Array)[]): void {
    parts.forEach((p, i) => {
      const b = typeof p === 'string' ? Buffer.from(p) : p;
      this.write(frameHeader(i < parts.length - 1 ? 1 : 0, b.length), b);
    });
  }

  /** Waits until `cond()` holds, re-checking whenever data arrives or the socket closes. */
  async until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  /** Names of the command frames received so far. */
  commands(): string[] {
    return this.frames.filter((f) => f.flags & 0x04).map((f) => commandName(f.body));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** A one-connection raw server: resolves the port and, later, the accepted peer. */
export async function rawServer(): Promise<{ port: number; peer: Promise<RawPeer>; close: () => Promise<void> }> {
  let resolvePeer!: (p: RawPeer) => void;
  const peer = new Promise<RawPeer>((res) => (resolvePeer = res));
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    resolvePeer(new RawPeer(s));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    port: (server.address() as net.AddressInfo).port,
    peer,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
