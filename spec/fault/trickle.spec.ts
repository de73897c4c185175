/**
 * Trickled input: a legal frame sent a byte at a time costs the listener its bytes plus a
 * constant (at most twice what was received, plus a small buffer), never a Buffer per segment;
 * it does not count as liveness (only completed frames do), so the heartbeat ends a connection
 * whose frame never completes; and while the process input budget is spent, a connection that
 * completes a message stops reading (TCP backpressure) until there is room again.
 */
import { expect } from 'chai';
import type { Socket } from 'node:net';
import { ByteBudget } from '../../zmtp/budget.js';
import { ManualClock } from '../../zmtp/clock.js';
import type { ZmtpConnection } from '../../zmtp/connection.js';
import { MIN_BODY_BUFFER } from '../../zmtp/decoder.js';
import { ZmtpErrorCode, type ZmtpError } from '../../zmtp/errors.js';
import { frameHeader } from '../../zmtp/frame.js';
import { ZmtpRouter, type RouterOptions } from '../../zmtp/router.js';
import { waitFor } from '../helpers/net.js';
import { flush, portOf } from '../helpers/omq.js';
import { RawPeer } from '../helpers/raw.js';
import { nodeBuf } from '../helpers/bytes.js';

/** Writes one byte and waits until the router has read it (so each is its own chunk, as far as TCP lets us). */
async function trickle(p: RawPeer, bytes: Uint8Array, conn: ZmtpConnection, before: number): Promise<void> {
  for (let i = 0; i < bytes.length; i++) {
    p.write(bytes.subarray(i, i + 1));
    const want = before + i + 1;
    await waitFor(() => received(conn) >= want || !conn.ready, 'the byte to arrive', 2000, conn.socket as Socket);
  }
}

/** Body bytes the connection's decoder has taken in for the frame in progress (the test's probe). */
function received(conn: ZmtpConnection): number {
  return (conn as unknown as { decoder: { bodyHave: number; buffered: number } }).decoder.bodyHave + (conn as unknown as { decoder: { buffered: number } }).decoder.buffered;
}

describe('fault: trickled frames', () => {
  let router: ZmtpRouter | undefined;
  const peers: RawPeer[] = [];
  afterEach(async () => {
    for (const p of peers.splice(0)) p.destroy();
    await router?.close();
    router = undefined;
  });

  async function connected(opts: RouterOptions, id: string): Promise<{ p: RawPeer; conn: ZmtpConnection }> {
    router ??= new ZmtpRouter(opts);
    const ep = router.endpoints[0] ?? (await router.bind('tcp://127.0.0.1:0'));
    const p = await RawPeer.connect(portOf(ep));
    peers.push(p);
    p.sendGreeting();
    p.sendReady('DEALER', Buffer.from(id));
    await waitFor(() => router!.peer(Buffer.from(id)) !== undefined, 'the handshake');
    return { p, conn: router.peer(Buffer.from(id)) as unknown as ZmtpConnection };
  }

  it('a 1 MiB frame trickled a byte at a time holds at most 2× the bytes received plus a constant', async function () {
    this.timeout(20_000);
    const { p, conn } = await connected({ clock: new ManualClock(), heartbeatInterval: 0 }, 't');
    p.write(frameHeader(0, 1024 * 1024));
    const body = Buffer.alloc(1500, 7);
    await trickle(p, body.subarray(0, 1), conn, 0);
    for (let sent = 1; sent < body.length; sent += 100) {
      await trickle(p, body.subarray(sent, sent + 100), conn, sent);
      const got = Math.min(sent + 100, body.length);
      expect(conn.inputBytes).to.be.at.most(2 * got + MIN_BODY_BUFFER);
    }
    expect(conn.inputBytes).to.be.at.least(body.length);
  });

  it('a frame that never completes is not liveness: the heartbeat ends the connection with ERR_ZMTP_HEARTBEAT_TIMEOUT', async () => {
    const clock = new ManualClock();
    const { p, conn } = await connected({ clock, heartbeatInterval: 1000, heartbeatTimeout: 3000 }, 'h');
    let ended: ZmtpError | null | undefined;
    router!.once('disconnect', (_peer, _route, err) => (ended = err));
    p.write(frameHeader(0, 1000));
    let seconds = 0;
    for (; seconds < 10 && ended === undefined; seconds++) {
      await trickle(p, Buffer.alloc(1, 1), conn, seconds);
      clock.advance(1000); // a PING each second, a byte each second: libzmq would call that alive
      await flush();
    }
    const err = ended;
    expect(seconds).to.be.at.most(5); // the PING at 1 s, then 3 s without a completed frame
    expect(err).to.have.property('code', ZmtpErrorCode.HEARTBEAT_TIMEOUT);
  });

  it('while the input budget is spent, a connection that completes a message stops reading until the budget has room', async () => {
    const budget = new ByteBudget(8 * 1024);
    const got: string[] = [];
    const opts: RouterOptions = { clock: new ManualClock(), heartbeatInterval: 0, inputBudget: budget };
    const a = await connected(opts, 'a');
    router!.onMessage = (frames) => got.push(nodeBuf(frames[0]!).toString('latin1', 0, 16));
    const b = await connected(opts, 'b');
    // A holds 16 KiB of a 32 KiB frame: the budget is spent.
    a.p.write(frameHeader(0, 32 * 1024), Buffer.alloc(16 * 1024, 0x61));
    await waitFor(() => budget.over, 'the budget to be spent');
    b.p.sendMessage('first from b');
    await waitFor(() => got.includes('first from b'), 'b\'s first message');
    expect(b.conn.readPaused).to.equal(true);
    b.p.sendMessage('second from b');
    await flush();
    await flush();
    expect(got).to.not.include('second from b');
    // A completes its frame: its bytes are given back and B reads again.
    a.p.write(Buffer.alloc(16 * 1024, 0x61));
    await waitFor(() => got.includes('second from b'), 'b\'s second message after the budget had room');
    expect(b.conn.readPaused).to.equal(false);
    expect(budget.used).to.equal(0);
  });
});
