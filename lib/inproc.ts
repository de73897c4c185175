/**
 * The built-in in-process listener (C++ `inproc://sn-self`): `connectInproc()`
 * connections to this instance's own listener, carried in memory with no socket. Delivery is
 * asynchronous (a microtask) and copies the caller's bytes, as a real socket would.
 */
import { copyBytes, latin1Key, utf8Bytes, zeroBytes, ZmtpError, ZmtpErrorCode } from '../zmtp/index.js';

type Frames = ReadonlyArray<Uint8Array | string>;

function copy(frames: Frames): Uint8Array[] {
  return frames.map((f) => (typeof f === 'string' ? utf8Bytes(f) : copyBytes(f)));
}

/** The client end of one in-process connection. */
export class InprocClient {
  closed = false;
  constructor(
    private readonly hub: InprocHub,
    readonly route: Uint8Array,
    readonly deliver: (frames: Uint8Array[]) => void,
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

  constructor(readonly toListener: (frames: Uint8Array[], route: Uint8Array) => void) {}

  /** Opens a new in-process connection whose incoming messages go to `deliver`. */
  connect(deliver: (frames: Uint8Array[]) => void): InprocClient {
    const route = zeroBytes(9);
    route[0] = 0x69; // 'i'
    globalThis.crypto.getRandomValues(route.subarray(1));
    const c = new InprocClient(this, route, deliver);
    this.clients.set(latin1Key(route), c);
    return c;
  }

  /** Sends from the listener to the client at `route`; HOST_UNREACHABLE if it is gone. */
  send(route: Uint8Array, frames: Frames): void {
    const c = this.clients.get(latin1Key(route));
    if (c === undefined || c.closed) throw new ZmtpError(ZmtpErrorCode.HOST_UNREACHABLE, 'in-process peer is gone');
    const msg = copy(frames);
    queueMicrotask(() => {
      if (!c.closed) c.deliver(msg);
    });
  }

  forget(c: InprocClient): void {
    this.clients.delete(latin1Key(c.route));
  }
}
