/**
 * The connection engine, ROUTER and DEALER against hand-driven raw peers: handshake rules,
 * timeouts and heartbeats on a manual clock, back-off, queues, and isolation of bad connections.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { ZmtpConnection } from '../../zmtp/connection.js';
import { encodePing } from '../../zmtp/heartbeat.js';
import { ManualClock, type DealerOptions, type MechanismFactory, type Peer, ZmtpError, ZmtpErrorCode, encodeCommand } from '../../zmtp/index.js';
import { ZmtpDealer, ZmtpRouter } from '../../zmtp/node.js';
import { curveClient, generateKeypair } from '../../curve/index.js';
import { freePort, once, tmpIpcDir } from '../helpers/net.js';
import { Rng } from '../helpers/random.js';
import { RawPeer, rawServer } from '../helpers/raw.js';
import { nodeBuf } from '../helpers/bytes.js';

const portOf = (ep: string) => Number(ep.split(':').at(-1));

/** The engine behind a peer view, for tests that look at its socket. */
function engine(peer: Peer | undefined): ZmtpConnection {
  if (!(peer instanceof ZmtpConnection)) throw new Error('not a live connection');
  return peer;
}

type Gone = [peer: Peer, route: Uint8Array | null, err: ZmtpError | null];

/** Sends 64 KiB messages until a send throws; how many went out and what was thrown. */
function floodUntilFull(send: (msg: Uint8Array[]) => void): { sent: number; full: unknown } {
  const big = Buffer.alloc(64 * 1024);
  for (let sent = 0; sent < 100_000; sent++) {
    try {
      send([big]);
    } catch (full) {
      return { sent, full };
    }
  }
  return { sent: 100_000, full: undefined };
}

/** A dealer whose handshake with a raw ROUTER-speaking peer has completed. */
async function readyDealer(opts: DealerOptions = {}): Promise<{ d: ZmtpDealer; peer: RawPeer; srv: Awaited<ReturnType<typeof rawServer>> }> {
  const srv = await rawServer();
  const d = new ZmtpDealer(opts);
  d.connect(`tcp://127.0.0.1:${srv.port}`);
  const peer = await srv.peer;
  peer.sendGreeting();
  peer.sendReady('ROUTER');
  await once(d, 'connect');
  return { d, peer, srv };
}

describe('zmtp/roles: DEALER', () => {
  it('sends its whole greeting and READY without waiting for the peer greeting, and data only after the peer READY', async () => {
    const srv = await rawServer();
    const d = new ZmtpDealer({ identity: Buffer.from('Lx') });
    try {
      d.connect(`tcp://127.0.0.1:${srv.port}`);
      d.send(['HI']);
      const peer = await srv.peer;
      // The peer has not greeted: the connecting side's first command comes with its greeting.
      await peer.until(() => peer.greeting !== null && peer.frames.length >= 1, 'greeting and READY');
      expect(peer.greeting!.subarray(0, 12)).to.deep.equal(Buffer.from('ff00000000000000037f0301', 'hex'));
      expect(peer.commands()).to.deep.equal(['READY']);
      peer.sendGreeting();
      // HI must wait for the peer's READY: a C++ listener resets connections that send early.
      await new Promise((r) => setTimeout(r, 20));
      expect(peer.frames).to.have.length(1);
      peer.sendReady('ROUTER');
      await peer.until(() => peer.frames.length === 2, 'HI after READY');
      expect(peer.frames[1]!.body.toString()).to.equal('HI');
    } finally {
      await d.close();
      await srv.close();
    }
  });

  it('under CURVE, HELLO too comes with the greeting, before the peer greets', async () => {
    const srv = await rawServer();
    const server = generateKeypair();
    const d = new ZmtpDealer({ mechanism: curveClient({ serverKey: server.publicKey, ...generateKeypair() }) });
    try {
      d.connect(`tcp://127.0.0.1:${srv.port}`);
      const peer = await srv.peer;
      await peer.until(() => peer.greeting !== null && peer.frames.length >= 1, 'greeting and HELLO');
      expect(Buffer.from(peer.greeting!.subarray(12, 17)).toString()).to.equal('CURVE');
      expect(peer.commands()).to.deep.equal(['HELLO']);
      expect(peer.frames[0]!.body).to.have.length(200); // RFC 26: the exact HELLO size
    } finally {
      await d.close();
      await srv.close();
    }
  });

  it('string parts go out as UTF-8, short and long, multi-byte and over 255 bytes', async () => {
    const router = new ZmtpRouter();
    const ep = await router.bind('tcp://127.0.0.1:0');
    const d = new ZmtpDealer();
    try {
      const got = new Promise<string[]>((res) => (router.onMessage = (f) => res(f.map((b) => nodeBuf(b).toString('utf8')))));
      d.connect(ep);
      const parts = ['a', 'é'.repeat(170), '𝄞'.repeat(85), 'x'.repeat(600), ''];
      d.send(parts);
      expect(await got).to.deep.equal(parts);
    } finally {
      await d.close();
      await router.close();
    }
  });

  it('queues up to the high-water mark while connecting, then ERR_ZMTP_QUEUE_FULL', async () => {
    const d = new ZmtpDealer({ clock: new ManualClock() }); // the default high-water mark: 1000
    d.connect(`tcp://127.0.0.1:${await freePort()}`);
    for (let i = 0; i < 1000; i++) d.send(['m']);
    expect(() => d.send(['one too many'])).to.throw().with.property('code', ZmtpErrorCode.QUEUE_FULL);
    expect(d.queued).to.equal(1000);
    await d.close();
    expect(() => d.send(['x'])).to.throw().with.property('code', ZmtpErrorCode.CLOSED);
  });

  it('backs off 250 ms doubling to 5 s on refused connects (manual clock)', async () => {
    const clock = new ManualClock();
    const d = new ZmtpDealer({ clock });
    const delays: number[] = [];
    try {
      d.connect(`tcp://127.0.0.1:${await freePort()}`);
      for (let i = 0; i < 7; i++) {
        const [err, retryIn] = await once<[ZmtpError, number]>(d, 'connect-failed');
        expect(err.code).to.equal(ZmtpErrorCode.TRANSPORT);
        delays.push(retryIn);
        clock.advance(retryIn);
      }
      expect(delays).to.deep.equal([250, 500, 1000, 2000, 4000, 5000, 5000]);
    } finally {
      await d.close();
    }
  });

  it('after failed attempts grew the delay, a good connection resets the back-off to 250 ms (manual clock)', async () => {
    const clock = new ManualClock();
    const port = await freePort();
    const d = new ZmtpDealer({ clock });
    let server: net.Server | undefined;
    try {
      d.connect(`tcp://127.0.0.1:${port}`);
      for (const expected of [250, 500, 1000]) {
        const [, retryIn] = await once<[ZmtpError, number]>(d, 'connect-failed');
        expect(retryIn).to.equal(expected);
        if (expected < 1000) clock.advance(retryIn);
      }
      // Now a peer appears; the next attempt (after 1000 ms) completes its handshake.
      const accepted = new Promise<RawPeer>((res) => {
        server = net.createServer((sock) => res(new RawPeer(sock)));
      });
      await new Promise<void>((res) => server!.listen(port, '127.0.0.1', res));
      clock.advance(1000);
      const peer = await accepted;
      peer.sendGreeting();
      peer.sendReady('ROUTER');
      await once(d, 'connect');
      // It drops, and nothing listens any more: the first retry comes 250 ms later, not 2000.
      const gone = once(d, 'disconnect');
      const closed = new Promise<void>((res) => server!.close(() => res()));
      peer.destroy();
      await Promise.all([gone, closed]);
      const failed = once<[ZmtpError, number]>(d, 'connect-failed');
      clock.advance(249);
      expect(d.state).to.equal('waiting');
      clock.advance(1);
      expect((await failed)[1]).to.equal(500);
    } finally {
      await d.close();
      if (server?.listening) server.close();
    }
  });

  it('a handshake that does not finish in 10 s fails with ERR_ZMTP_HANDSHAKE_TIMEOUT and is retried', async () => {
    const clock = new ManualClock();
    const srv = await rawServer();
    const d = new ZmtpDealer({ clock });
    try {
      d.connect(`tcp://127.0.0.1:${srv.port}`);
      const peer = await srv.peer; // accepted, but the raw peer never answers
      await peer.until(() => peer.greeting !== null, 'our greeting (the handshake clock runs)');
      const failed = once<[ZmtpError, number]>(d, 'connect-failed');
      clock.advance(9999);
      expect(d.state).to.equal('connecting');
      clock.advance(1);
      const [err, retryIn] = await failed;
      expect(err.code).to.equal(ZmtpErrorCode.HANDSHAKE_TIMEOUT);
      expect(retryIn).to.equal(250);
    } finally {
      await d.close();
      await srv.close();
    }
  });

  it('PINGs every interval and drops a silent peer after the heartbeat timeout (manual clock)', async () => {
    const clock = new ManualClock();
    const { d, peer, srv } = await readyDealer({ clock, heartbeatInterval: 15_000, heartbeatTimeout: 30_000 });
    try {
      clock.advance(15_000);
      await peer.until(() => peer.commands().includes('PING'), 'our PING');
      expect(peer.frames.at(-1)!.body).to.deep.equal(encodePing(0));
      const gone = once<[ZmtpError | null]>(d, 'disconnect');
      clock.advance(30_000);
      const [err] = await gone;
      expect(err?.code).to.equal(ZmtpErrorCode.HEARTBEAT_TIMEOUT);
    } finally {
      await d.close();
      await srv.close();
    }
  });

  it('a peer that answers keeps the connection alive across many intervals', async () => {
    const clock = new ManualClock();
    const { d, peer, srv } = await readyDealer({ clock, heartbeatInterval: 100, heartbeatTimeout: 250 });
    try {
      for (let i = 1; i <= 10; i++) {
        clock.advance(100);
        await peer.until(() => peer.commands().filter((c) => c === 'PING').length === i, `PING ${i}`);
        peer.sendCommand('PONG');
        await new Promise((r) => setTimeout(r, 1)); // let the PONG arrive before time moves on
      }
      expect(d.state).to.equal('ready');
    } finally {
      await d.close();
      await srv.close();
    }
  });

  it('a peer that stops reading fills the queue to QUEUE_FULL; once it reads again, drain fires and sends resume', async () => {
    const { d, peer, srv } = await readyDealer({ maxQueuedBytes: 1024 * 1024 });
    try {
      peer.socket.pause();
      const { sent, full } = floodUntilFull((m) => d.send(m));
      expect(full).to.have.property('code', ZmtpErrorCode.QUEUE_FULL);
      expect(d.queuedBytes).to.be.within(1024 * 1024 - 65_000, 1024 * 1024); // bounded: the byte limit, not the whole backlog
      const drained = once(d, 'drain', 10_000);
      peer.socket.resume();
      await drained;
      d.send(['after the drain']);
      await peer.until(() => peer.frames.at(-1)?.body.toString() === 'after the drain', 'the message sent after drain', 10_000);
      expect(peer.frames.filter((f) => !(f.flags & 0x04))).to.have.length(sent + 1);
    } finally {
      await d.close();
      await srv.close();
    }
  });

  it('close(linger) still writes what was queued, then ends the connection', async () => {
    const { d, peer, srv } = await readyDealer();
    try {
      // Small frames sit in the output batch, large ones are written by reference: both must go.
      for (let i = 0; i < 200; i++) d.send([`m${i}`, Buffer.alloc(i % 2 ? 1000 : 10)]);
      const closed = d.close(5000);
      await peer.until(() => peer.closed, 'the end of the connection');
      await closed;
      const data = peer.frames.filter((f) => !(f.flags & 0x04));
      expect(data).to.have.length(400);
      expect(data[398]!.body.toString()).to.equal('m199');
    } finally {
      await srv.close();
    }
  });

  for (const [what, setup, code] of [
    ['an incompatible Socket-Type', (p: RawPeer) => p.sendReady('PUB'), ZmtpErrorCode.SOCKET_TYPE],
    ['a data frame before READY', (p: RawPeer) => p.sendMessage('early'), ZmtpErrorCode.UNEXPECTED_COMMAND],
    ['a mechanism mismatch', null, ZmtpErrorCode.MECHANISM_MISMATCH],
  ] as const) {
    it(`${what} fails for good with ${code} (protocol errors are not retried, as libzmq 4.3)`, async () => {
      const srv = await rawServer();
      const d = new ZmtpDealer({ reconnectInterval: 1 });
      try {
        d.connect(`tcp://127.0.0.1:${srv.port}`);
        const peer = await srv.peer;
        const failed = once<[ZmtpError]>(d, 'failed');
        if (setup === null) {
          peer.sendGreeting('CURVE');
        } else {
          peer.sendGreeting();
          setup(peer);
        }
        const [err] = await failed;
        expect(err.code).to.equal(code);
        expect(d.state).to.equal('failed');
      } finally {
        await d.close();
        await srv.close();
      }
    });
  }
});

describe('zmtp/roles: ROUTER', () => {
  let router: ZmtpRouter;
  afterEach(async () => router?.close());

  async function handshaken(port: number, identity?: string): Promise<RawPeer> {
    const p = await RawPeer.connect(port);
    p.sendGreeting();
    p.sendReady('DEALER', identity ? Buffer.from(identity) : undefined);
    await p.until(() => p.commands().includes('READY'), 'router READY');
    return p;
  }

  it('answers READY with Socket-Type=ROUTER and an empty Identity', async () => {
    router = new ZmtpRouter();
    const p = await handshaken(portOf(await router.bind('tcp://127.0.0.1:0')));
    const ready = p.frames[0]!.body;
    expect(ready.toString('hex')).to.equal('0552454144590b536f636b65742d5479706500000006524f55544552084964656e7469747900000000');
    p.destroy();
  });

  it('the authentication hook sees address, mechanism and identity; the data it attaches is the peer view\'s authData', async () => {
    const seen: unknown[] = [];
    const typed = new ZmtpRouter<{ level: 'basic' | 'admin' }>({
      authenticate: (req) => {
        seen.push([req.address, req.mechanism, req.identity.toString(), req.publicKey]);
        return { allow: true, data: { level: 'basic' } };
      },
    });
    try {
      const port = portOf(await typed.bind('tcp://127.0.0.1:0'));
      const connected = once<[Peer<{ level: 'basic' | 'admin' }>, Buffer]>(typed, 'connect');
      const got = new Promise<string | undefined>((res) => (typed.onMessage = (_f, _r, peer) => res(peer.authData?.level)));
      const p = await handshaken(port, 'Lauth');
      const [peer, route] = await connected;
      expect(seen).to.deep.equal([['127.0.0.1', 'NULL', 'Lauth', undefined]]);
      expect(route.toString()).to.equal('Lauth');
      expect(peer.identity.toString()).to.equal('Lauth');
      expect(peer.mechanism).to.equal('NULL');
      expect(peer.metadata.get('socket-type')?.toString()).to.equal('DEALER');
      expect(peer.authData).to.deep.equal({ level: 'basic' });
      expect(typed.peer(route)).to.equal(peer);
      p.sendMessage('x');
      expect(await got).to.equal('basic');
      p.destroy();
    } finally {
      await typed.close();
    }
  });

  it('an asynchronous hook that denies gets ERROR "400" on the wire, then the connection closes', async () => {
    router = new ZmtpRouter({ authenticate: async () => ({ allow: false }) });
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    const p = await RawPeer.connect(port);
    p.sendGreeting();
    p.sendReady('DEALER');
    await p.until(() => p.closed, 'close after ERROR');
    expect(p.frames.map((f) => f.body.toString('hex'))).to.deep.equal(['054552524f5203343030']);
  });

  it('a hook that throws denies with ERROR "500" and never crashes the listener', async () => {
    router = new ZmtpRouter({
      authenticate: () => {
        throw new Error('boom');
      },
    });
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    const p = await RawPeer.connect(port);
    p.sendGreeting();
    p.sendReady('DEALER');
    await p.until(() => p.closed, 'close after ERROR');
    expect(p.frames[0]!.body.subarray(7).toString()).to.equal('500');
  });

  it('a protocol violation ends only that connection with its error code', async () => {
    router = new ZmtpRouter();
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    const good = await handshaken(port, 'Lgood');
    const bad = await handshaken(port, 'Lbad');
    router.onMessage = (frames, route) => router.send(route, ['echo', ...frames]);
    const gone = once<Gone>(router, 'disconnect');
    bad.write(Buffer.from([0x08, 0x00])); // reserved flag bit
    const [peer, route, err] = await gone;
    expect(route?.toString()).to.equal('Lbad');
    expect(peer.identity.toString()).to.equal('Lbad');
    expect(err?.code).to.equal(ZmtpErrorCode.RESERVED_FLAGS);
    expect(router.peer(Buffer.from('Lbad'))).to.equal(undefined);
    good.sendMessage('still', 'here');
    await good.until(() => good.frames.length === 4, 'echo on the good connection');
    expect(good.frames.slice(1).map((f) => f.body.toString())).to.deep.equal(['echo', 'still', 'here']);
    good.destroy();
  });

  it('handover: a newcomer with a routing id in use takes the route; the old connection is closed, route null in its disconnect, and delivers nothing more', async () => {
    router = new ZmtpRouter();
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    const got: string[] = [];
    router.onMessage = (frames, route) => got.push(`${route}:${frames[0]}`);
    const first = await handshaken(port, 'Lsame');
    const firstPeer = router.peer(Buffer.from('Lsame'));
    const gone = once<Gone>(router, 'disconnect');
    const connected = once<[Peer, Buffer]>(router, 'connect');
    const second = await handshaken(port, 'Lsame');
    const [newPeer, newRoute] = await connected;
    const [oldPeer, oldRoute, err] = await gone;
    expect(oldPeer).to.equal(firstPeer);
    expect(oldRoute).to.equal(null);
    expect(err).to.equal(null);
    expect(newRoute.toString()).to.equal('Lsame');
    expect(router.peer(newRoute)).to.equal(newPeer);
    expect(router.size).to.equal(1);
    first.sendMessage('from the old one'); // its socket is gone: nothing may arrive from it
    second.sendMessage('from the new one');
    await second.until(() => got.length === 1, 'the newcomer\'s message');
    router.send(newRoute, ['to the newcomer']);
    await second.until(() => second.frames.length === 2, 'a reply on the new connection');
    expect(got).to.deep.equal(['Lsame:from the new one']);
    expect(first.frames.filter((f) => !(f.flags & 0x04))).to.have.length(0);
    first.destroy();
    second.destroy();
  });

  it('a peer that stops reading fills its queue to QUEUE_FULL; once it reads again, drain names the peer and its route', async () => {
    router = new ZmtpRouter({ sendHighWaterMark: 10 });
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    const p = await handshaken(port, 'Lslow');
    const route = Buffer.from('Lslow');
    p.socket.pause();
    const { sent, full } = floodUntilFull((m) => router.send(route, m));
    expect(full).to.have.property('code', ZmtpErrorCode.QUEUE_FULL);
    const drained = once<[Peer, Buffer]>(router, 'drain', 10_000);
    p.socket.resume();
    const [peer, drainedRoute] = await drained;
    expect(peer).to.equal(router.peer(route));
    expect(drainedRoute.toString()).to.equal('Lslow');
    router.send(route, ['after the drain']);
    await p.until(() => p.frames.at(-1)?.body.toString() === 'after the drain', 'the message sent after drain', 10_000);
    expect(p.frames.filter((f) => !(f.flags & 0x04))).to.have.length(sent + 1);
    p.destroy();
  });

  it('a part that is neither string nor bytes is a TypeError at send(), and the connection carries on', async () => {
    router = new ZmtpRouter();
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    const p = await handshaken(port, 'Lt');
    const route = Buffer.from('Lt');
    expect(() => router.send(route, ['ok', 7 as unknown as string])).to.throw(TypeError, /part 1/);
    router.send(route, ['fine']);
    await p.until(() => p.frames.length === 2, 'the good message');
    expect(p.frames[1]!.body.toString()).to.equal('fine');
    p.destroy();
  });

  for (const [what, act, code] of [
    ['an oversize frame', (p: RawPeer) => p.write(Buffer.from([0x02, 0, 0, 0, 0, 0, 0x10, 0, 1])), ZmtpErrorCode.FRAME_TOO_LARGE],
    ['too many frames in one message', (p: RawPeer) => p.sendMessage(...Array.from({ length: 11 }, () => 'x')), ZmtpErrorCode.TOO_MANY_FRAMES],
    ['COMMAND with MORE', (p: RawPeer) => p.write(Buffer.from([0x05, 0])), ZmtpErrorCode.COMMAND_MORE],
  ] as const) {
    it(`${what} after the handshake → disconnect with ${code}`, async () => {
      router = new ZmtpRouter({ maxFramesPerMessage: 10 });
      const port = portOf(await router.bind('tcp://127.0.0.1:0'));
      const p = await handshaken(port);
      const gone = once<Gone>(router, 'disconnect');
      act(p);
      expect((await gone)[2]?.code).to.equal(code);
    });
  }

  for (const [what, act, code] of [
    ['an identity starting with 0x00', (p: RawPeer) => p.sendReady('DEALER', Buffer.from([0, 1, 2])), ZmtpErrorCode.IDENTITY],
    ['an incompatible Socket-Type', (p: RawPeer) => p.sendReady('SUB'), ZmtpErrorCode.SOCKET_TYPE],
    ['a missing Socket-Type', (p: RawPeer) => p.sendCommand('READY'), ZmtpErrorCode.SOCKET_TYPE],
    ['a ZMTP 2.0 greeting', (p: RawPeer) => p.write(Buffer.from('ff00000000000000017f02', 'hex')), ZmtpErrorCode.VERSION],
  ] as const) {
    it(`${what} in the handshake → handshake-failed with ${code}`, async () => {
      router = new ZmtpRouter();
      const port = portOf(await router.bind('tcp://127.0.0.1:0'));
      const p = await RawPeer.connect(port);
      const failed = once<[ZmtpError, string]>(router, 'handshake-failed');
      if (code !== ZmtpErrorCode.VERSION) p.sendGreeting();
      act(p);
      const [err, address] = await failed;
      expect(err.code).to.equal(code);
      expect(address).to.equal('127.0.0.1');
    });
  }

  it('a mechanism that throws a plain Error is our bug: ERR_ZMTP_INTERNAL with the cause, one error log line', async () => {
    const bug = new TypeError('mechanism bug');
    const errors: unknown[][] = [];
    const buggy: MechanismFactory = {
      name: 'NULL',
      create: () => ({
        codec: null,
        start() {},
        onCommand() {
          throw bug;
        },
        destroy() {},
      }),
    };
    router = new ZmtpRouter({ mechanism: buggy, logger: { error: (...args: unknown[]) => errors.push(args) } });
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    const p = await RawPeer.connect(port);
    const failed = once<[ZmtpError, string]>(router, 'handshake-failed');
    p.sendGreeting();
    p.sendReady('DEALER');
    const [err] = await failed;
    expect(err.code).to.equal(ZmtpErrorCode.INTERNAL);
    expect(err.cause).to.equal(bug);
    expect(errors).to.have.length(1);
    expect(errors[0]![1]).to.equal(bug);
    p.destroy();
  });

  it('a codec that fails while sending ends the connection with its error; nothing of the message reaches the peer', async () => {
    const failure = new ZmtpError(ZmtpErrorCode.CURVE_MESSAGE, 'codec gave up');
    const failing: MechanismFactory = {
      name: 'NULL',
      create: (host) => ({
        codec: {
          lastFlags: 0,
          encodeFrame(): Uint8Array {
            throw failure;
          },
          decodeFrame: (_flags: number, body: Uint8Array) => body,
        },
        start() {},
        onCommand(body: Uint8Array) {
          host.admitPeer(body.subarray(6), undefined, () => {
            host.sendCommand(encodeCommand('READY', host.localMetadata));
            host.handshakeComplete();
          });
        },
        destroy() {},
      }),
    };
    router = new ZmtpRouter({ mechanism: failing });
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    const p = await handshaken(port, 'Lc');
    const gone = once<Gone>(router, 'disconnect');
    expect(() => router.send(Buffer.from('Lc'), ['a', Buffer.alloc(1000)])).to.throw().that.equals(failure);
    expect((await gone)[2]).to.equal(failure);
    await p.until(() => p.closed, 'the close');
    expect(p.frames).to.have.length(1); // our READY, nothing after it
  });

  it('honours a PING TTL from the peer (manual clock)', async () => {
    const clock = new ManualClock();
    router = new ZmtpRouter({ clock, heartbeatInterval: 0 });
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    const p = await handshaken(port);
    p.sendCommand('PING', Buffer.from([0, 10, 0xca, 0xfe])); // TTL 1 s, context cafe
    await p.until(() => p.commands().includes('PONG'), 'PONG');
    expect(p.frames.at(-1)!.body.subarray(5).toString('hex')).to.equal('cafe');
    const gone = once<Gone>(router, 'disconnect');
    clock.advance(1000);
    expect((await gone)[2]?.code).to.equal(ZmtpErrorCode.HEARTBEAT_TIMEOUT);
  });

  it('property: 50 clients sending random garbage at every stage each fail alone; a good client keeps working', async () => {
    router = new ZmtpRouter();
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    router.onMessage = (frames, route) => router.send(route, frames);
    const good = await handshaken(port);
    const rng = new Rng(5);
    const failures: string[] = [];
    router.on('handshake-failed', (err) => failures.push(err.code));
    router.on('disconnect', (_peer, _route, err) => failures.push(err?.code ?? 'clean close'));
    const peers: RawPeer[] = [];
    for (let i = 0; i < 50; i++) {
      const p = await RawPeer.connect(port);
      const junk = rng.bytes(1 + rng.int(200));
      // Random bytes, shaped so each stage is certain to be violated rather than merely waited on.
      if (i % 3 === 0) {
        junk[0] = junk[0] === 0xff ? 0 : junk[0]!; // in place of the greeting
      } else {
        p.sendGreeting();
        if (i % 3 === 2) {
          p.sendReady('DEALER');
          await p.until(() => p.commands().includes('READY'), 'READY'); // after the handshake
        }
        junk[0] = junk[0]! | 0x08; // a frame header with a reserved bit set
      }
      p.write(junk);
      peers.push(p);
    }
    await good.until(() => failures.length === 50, 'all 50 bad connections to fail');
    expect([...new Set(failures)].sort()).to.deep.equal([ZmtpErrorCode.GREETING_SIGNATURE, ZmtpErrorCode.RESERVED_FLAGS].sort());
    good.sendMessage('ping');
    await good.until(() => good.frames.length === 2, 'echo');
    expect(good.frames[1]!.body.toString()).to.equal('ping');
    expect(router.size).to.equal(1);
    for (const p of peers) p.destroy();
    good.destroy();
  });

  it('binds tcp://*:0 and reports the real port; a port in use is ERR_ZMTP_BIND_FAILED', async () => {
    router = new ZmtpRouter();
    const ep = await router.bind('tcp://*:0');
    expect(ep).to.match(/^tcp:\/\/0\.0\.0\.0:\d+$/);
    const other = new ZmtpRouter();
    try {
      await other.bind(ep).then(
        () => expect.fail('bind should fail'),
        (err: ZmtpError) => expect(err.code).to.equal(ZmtpErrorCode.BIND_FAILED),
      );
    } finally {
      await other.close();
    }
  });

  it('ipc: removes a stale socket file but never a live one', async () => {
    const path = join(tmpIpcDir(), 'stale.sock');
    // A socket file bound by a process that then exited: nobody accepts on it.
    execFileSync('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`]);
    expect(existsSync(path)).to.equal(true);
    router = new ZmtpRouter();
    await router.bind(`ipc://${path}`);
    const live = new ZmtpRouter();
    try {
      await live.bind(`ipc://${path}`).then(
        () => expect.fail('bind over a live socket should fail'),
        (err: ZmtpError) => expect(err.code).to.equal(ZmtpErrorCode.BIND_FAILED),
      );
    } finally {
      await live.close();
    }
    const c = net.connect({ path });
    await once(c, 'connect');
    c.destroy();
    await router.close();
    expect(existsSync(path)).to.equal(false);
  });
});

describe('zmtp/roles: IPv6', () => {
  it('with ipv6 on, a listener on tcp://[::1]:0 is reached by a dealer', async () => {
    const router = new ZmtpRouter({ ipv6: true });
    const ep = await router.bind('tcp://[::1]:0');
    expect(ep).to.match(/^tcp:\/\/\[::1\]:\d+$/);
    const d = new ZmtpDealer({ ipv6: true, identity: Buffer.from('Lv6') });
    try {
      const got = new Promise<{ route: Uint8Array; address: string }>((res) => (router.onMessage = (_f, route, peer) => res({ route: Buffer.from(route), address: peer.remoteAddress })));
      d.connect(ep);
      d.send(['over v6']);
      const m = await got;
      expect(m.route.toString()).to.equal('Lv6');
      expect(m.address).to.equal('::1');
    } finally {
      await d.close();
      await router.close();
    }
  });
});

describe('zmtp/roles: hostile peers and races', () => {
  it('a PING flood from a peer that never reads does not grow our write buffer', async () => {
    const router = new ZmtpRouter({ heartbeatInterval: 0 });
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    const connected = once<[Peer]>(router, 'connect');
    const p = await RawPeer.connect(port);
    try {
      p.sendGreeting();
      p.sendReady('DEALER');
      const conn = engine((await connected)[0]);
      p.socket.pause(); // never read our PONGs
      const pings = Buffer.alloc(9 * 100_000);
      for (let i = 0; i < 100_000; i++) pings.set([0x04, 0x07, 0x04, 0x50, 0x49, 0x4e, 0x47, 0, 0], i * 9);
      const processed = new Promise<void>((res) => (router.onMessage = () => res()));
      for (let i = 0; i < 20; i++) p.write(pings); // 18 MB of PINGs, then one message
      p.sendMessage('done');
      await processed;
      expect(conn.ready).to.equal(true);
      // Unanswered PONGs would be ~14 MB here; the kernel takes some, the rest must not pile up.
      expect(conn.socket.writableLength).to.be.below(1024 * 1024);
    } finally {
      p.destroy();
      await router.close();
    }
  });

  it('an unfinished multipart message over maxMultipartSize ends the connection (ERR_ZMTP_MESSAGE_TOO_LARGE)', async () => {
    const router = new ZmtpRouter({ maxMultipartSize: 1024 * 1024 });
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    const p = await RawPeer.connect(port);
    try {
      p.sendGreeting();
      p.sendReady('DEALER');
      await p.until(() => p.commands().includes('READY'), 'READY');
      const gone = once<Gone>(router, 'disconnect');
      const part = Buffer.alloc(400 * 1024);
      for (let i = 0; i < 3; i++) p.write(Buffer.from([0x03, 0, 0, 0, 0, 0, 0x06, 0x40, 0x00]), part); // MORE|LONG, 400 KiB
      expect((await gone)[2]?.code).to.equal(ZmtpErrorCode.MESSAGE_TOO_LARGE);
    } finally {
      p.destroy();
      await router.close();
    }
  });

  it('close() while a bind is under way stops that listener too (the bind rejects with ERR_ZMTP_CLOSED)', async () => {
    const router = new ZmtpRouter();
    const bound = router.bind('tcp://127.0.0.1:0');
    await router.close();
    const err = await bound.then(
      () => undefined,
      (e: ZmtpError) => e,
    );
    expect(err?.code).to.equal(ZmtpErrorCode.CLOSED);
    expect(router.endpoints).to.deep.equal([]);
  });
});
