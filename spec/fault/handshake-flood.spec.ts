/**
 * Handshake floods: connections that send a few greeting bytes and stall hold a slot each until
 * the handshake timeout. A listener holds at most `maxHandshakes` of them (and, when set,
 * `maxHandshakesPerAddress` from one address); a connection past the cap is closed as soon as it
 * is accepted, with a throttled warning, and the slots come back as handshakes end.
 */
import { expect } from 'chai';
import { ManualClock } from '../../zmtp/clock.js';
import { encodeGreeting } from '../../zmtp/greeting.js';
import { ZmtpRouter } from '../../zmtp/router.js';
import { waitFor } from '../helpers/net.js';
import { Harness, portOf } from '../helpers/omq.js';
import { RawPeer } from '../helpers/raw.js';

async function stall(port: number): Promise<RawPeer> {
  const p = await RawPeer.connect(port);
  p.write(encodeGreeting('NULL').subarray(0, 10));
  return p;
}

describe('fault: handshake flood', () => {
  const h = new Harness();
  afterEach(() => h.closeAll());
  let router: ZmtpRouter | undefined;
  const peers: RawPeer[] = [];
  beforeEach(() => {
    h.defer(async () => {
      for (const p of peers.splice(0)) p.destroy();
      await router?.close();
    });
  });

  it('past maxHandshakes stalled handshakes, new connections are closed at once with a throttled warning; a slot freed is usable again', async () => {
    const warns: string[] = [];
    router = new ZmtpRouter({ maxHandshakes: 8, clock: new ManualClock(), logger: { warn: (m: string) => warns.push(m) } });
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    for (let i = 0; i < 8; i++) peers.push(await stall(port));
    await waitFor(() => router!.pendingHandshakes === 8, 'eight handshakes in progress');
    const extra: RawPeer[] = [];
    for (let i = 0; i < 20; i++) extra.push(await stall(port));
    peers.push(...extra);
    for (const p of extra) await p.until(() => p.closed, 'the connection past the cap to be closed', 2000);
    expect(extra.every((p) => p.frames.length === 0 && p.greeting === null)).to.equal(true); // closed before a byte was sent
    expect(router.pendingHandshakes).to.equal(8);
    expect(peers.slice(0, 8).some((p) => p.closed)).to.equal(false);
    const limitLines = warns.filter((w) => /maxHandshakes \(8\)/.test(w));
    expect(limitLines.length).to.be.within(1, 3); // 20 refusals, at most the throttle's burst of lines

    peers[0]!.destroy();
    await waitFor(() => router!.pendingHandshakes === 7, 'the slot of the peer that left');
    const ok = await RawPeer.connect(port);
    peers.push(ok);
    ok.sendGreeting();
    ok.sendReady('DEALER', Buffer.from('ok'));
    await waitFor(() => router!.size === 1, 'the new handshake to complete');
    expect(router.pendingHandshakes).to.equal(7);
  });

  it('maxHandshakesPerAddress: one address cannot hold more unfinished handshakes than its share', async () => {
    router = new ZmtpRouter({ maxHandshakes: 100, maxHandshakesPerAddress: 3, clock: new ManualClock() });
    const port = portOf(await router.bind('tcp://127.0.0.1:0'));
    for (let i = 0; i < 3; i++) peers.push(await stall(port));
    await waitFor(() => router!.pendingHandshakes === 3, 'three handshakes in progress');
    const fourth = await stall(port);
    peers.push(fourth);
    await fourth.until(() => fourth.closed, 'the fourth from the same address to be closed', 2000);
    expect(router.pendingHandshakes).to.equal(3);
  });
});
