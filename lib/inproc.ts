/**
 * The built-in in-process listener (`inproc://sn-self`, PROTOCOL.md §5.3): `connectInproc()`
 * connections to this instance's own listener, carried in memory with no socket. Delivery is
 * asynchronous (a microtask) and copies the caller's bytes, as a real socket would.
 */
import { randomBytes } from 'node:crypto';
import { ZmtpError, ZmtpErrorCode } from '../zmtp/index.js';

type Frames = ReadonlyArray<Uint8Array | string>;

function copy(frames: Frames): Buffer[] {
  return frames.map((f) => (typeof f === 'string' ? Buffer.from(f) : Buffer.from(f)));
}

/** The client end of one in-process connection. */
export class InprocClient {
  closed = false;
  constructor(
    private readonly hub: InprocHub,
    readonly route: Buffer,
    readonly deliver: (frames: Buffer[]) => void,
  ) {}

  send(frames: Frames): void {
    if (this.closed) throw new ZmtpError(ZmtpErrorCode.CLOSED, 'in-process connection is closed');
    const msg = copy(frames);
    queueMicrotask(() => {
      if (!this.closed) this.hub.toListener(msg, this.route);
    });
  }

  close(): void {
    this.closed = true;
    this.hub.forget(this);
  }
}

/** The listener side: routes replies back to the right client by route. */
export class InprocHub {
  private readonly clients = new Map<string, InprocClient>();

  constructor(readonly toListener: (frames: Buffer[], route: Buffer) => void) {}

  /** Opens a new in-process connection whose incoming messages go to `deliver`. */
  connect(deliver: (frames: Buffer[]) => void): InprocClient {
    const route = Buffer.concat([Buffer.from('i'), randomBytes(8)]);
    const c = new InprocClient(this, route, deliver);
    this.clients.set(route.toString('latin1'), c);
    return c;
  }

  /** Sends from the listener to the client at `route`; HOST_UNREACHABLE if it is gone. */
  send(route: Uint8Array, frames: Frames): void {
    const c = this.clients.get(Buffer.from(route).toString('latin1'));
    if (c === undefined || c.closed) throw new ZmtpError(ZmtpErrorCode.HOST_UNREACHABLE, 'in-process peer is gone');
    const msg = copy(frames);
    queueMicrotask(() => {
      if (!c.closed) c.deliver(msg);
    });
  }

  forget(c: InprocClient): void {
    this.clients.delete(c.route.toString('latin1'));
  }
}
