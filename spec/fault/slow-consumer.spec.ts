/**
 * Slow consumers: a peer that never reads pins at most its send queue's byte budget
 * (`maxQueuedBytes`, and the budget all queues share), whatever the message size; past it,
 * sends fail with QUEUE_FULL (OxenMQ: the message is dropped and `queueFull` is called), and the
 * bytes come back when the peer goes.
 */
import { expect } from 'chai';
import type { ConnectionID } from '../../lib/index.js';
import { ByteBudget } from '../../zmtp/budget.js';
import { ManualClock } from '../../zmtp/clock.js';
import { ZmtpErrorCode } from '../../zmtp/errors.js';
import { ZmtpRouter } from '../../zmtp/router.js';
import { isCommand } from '../../zmtp/command.js';
import { rawServer, RawPeer } from '../helpers/raw.js';
import { waitFor } from '../helpers/net.js';
import { Harness, RecordingLogger, flush, portOf } from '../helpers/omq.js';

const MiB = 1024 * 1024;

/** Sends `msg` until the send throws; returns how many went and what was thrown. */
function fill(send: () => void): { sent: number; err: unknown } {
  for (let sent = 0; sent < 10_000; sent++) {
    try {
      send();
    } catch (err) {
      return { sent, err };
    }
  }
  return { sent: 10_000, err: undefined };
}

describe('fault: slow consumer', () => {
  const h = new Harness();
  afterEach(() => h.closeAll());

  it('a ROUTER peer that never reads pins at most maxQueuedBytes; the shared budget gets every byte back when it goes', async () => {
    const budget = new ByteBudget(64 * MiB);
    const router = new ZmtpRouter({ maxQueuedBytes: 4 * MiB, outputBudget: budget, clock: new ManualClock() });
    h.defer(() => router.close());
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    const p = await RawPeer.connect(port);
    p.socket.pause(); // never reads: our socket's buffer and the kernel's fill, then the queue
    p.sendGreeting();
    p.sendReady('DEALER', Buffer.from('slow'));
    await waitFor(() => router.size === 1, 'the handshake');
    const route = Buffer.from('slow');
    const big = Buffer.alloc(MiB);
    let total = 0;
    // Several turns, so the kernel and socket buffers are full and the queue is what grows.
    for (let turn = 0; turn < 8; turn++) {
      const { sent, err } = fill(() => router.send(route, [big]));
      total += sent;
      if (err !== undefined) {
        expect(err).to.have.property('code', ZmtpErrorCode.QUEUE_FULL);
        expect((err as Error).message).to.match(/byte limit/);
      }
      await flush();
    }
    expect(total).to.be.below(64); // most of the 8 × 10,000 attempts were refused
    expect(router.queuedBytes(route)).to.be.within(3 * MiB, 4 * MiB);
    expect(budget.used).to.equal(router.queuedBytes(route));
    p.destroy();
    await waitFor(() => router.size === 0, 'the peer to go');
    expect(budget.used).to.equal(0);
  });

  it('two slow peers share the process budget: the second gets what the first leaves', async () => {
    const budget = new ByteBudget(6 * MiB);
    const router = new ZmtpRouter({ maxQueuedBytes: 4 * MiB, outputBudget: budget, clock: new ManualClock() });
    h.defer(() => router.close());
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    const routes = ['a', 'b'].map((r) => Buffer.from(r));
    for (const r of routes) {
      const p = await RawPeer.connect(port);
      h.defer(() => p.destroy());
      p.socket.pause();
      p.sendGreeting();
      p.sendReady('DEALER', r);
    }
    await waitFor(() => router.size === 2, 'both handshakes');
    const big = Buffer.alloc(MiB);
    for (let turn = 0; turn < 4; turn++) {
      fill(() => router.send(routes[0]!, [big]));
      await flush();
    }
    const first = router.queuedBytes(routes[0]!);
    const { err } = fill(() => router.send(routes[1]!, [big]));
    expect(err).to.have.property('code', ZmtpErrorCode.QUEUE_FULL);
    expect(first + router.queuedBytes(routes[1]!)).to.be.at.most(6 * MiB);
    expect(budget.used).to.equal(first + router.queuedBytes(routes[1]!));
  });

  for (const [what, limit] of [
    ['maxQueuedBytes', { maxQueuedBytes: 4 * MiB }],
    ['the instance outputBudget', { outputBudget: 4 * MiB }],
  ] as const) {
    it(`OxenMQ: sends to a peer that never reads are dropped with queueFull past ${what}, with one throttled warning; drained() waits for room`, async () => {
      const srv = await rawServer();
      h.defer(() => srv.close());
      const log = new RecordingLogger();
      const c = await h.client({ ...limit, logger: log });
      const connecting = c.connectRemote(`tcp://127.0.0.1:${srv.port}`);
      const peer = await srv.peer;
      peer.sendGreeting();
      peer.sendReady('ROUTER');
      await peer.until(() => peer.frames.some((f) => !(f.flags & 0x04)), 'the HI');
      const hi = peer.frames.find((f) => !(f.flags & 0x04) && !isCommand(f.body, 'READY'))!;
      expect(hi.body.toString()).to.equal('HI');
      peer.sendMessage('HELLO');
      const conn: ConnectionID = await connecting;
      peer.socket.pause();
      const big = Buffer.alloc(MiB);
      let full = 0;
      for (let turn = 0; turn < 8; turn++) {
        for (let i = 0; i < 8; i++) c.send(conn, 'x.y', big, { queueFull: () => full++ });
        await flush();
      }
      await waitFor(() => full > 40, 'queueFull calls'); // 64 MiB offered; about 4 MiB queued and what the sockets hold
      expect(log.matching('send queue full', 'warn').length).to.be.within(1, 3);
      let drained = false;
      const room = c.drained(conn).then(() => (drained = true));
      await flush();
      expect(drained).to.equal(false);
      peer.socket.resume();
      await room;
      expect(drained).to.equal(true);
    });
  }
});
