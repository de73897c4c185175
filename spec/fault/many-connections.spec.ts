/**
 * Many connections to one listener: 2,000 raw NULL peers (greeting + READY each, opened in
 * batches) held open at once against an OxenMQ listener. The listener accepts and counts every
 * one, keeps answering requests — from the raw peers and from an OxenMQ client — while they are
 * all open, and counts them down again as they go. The 10,000-connection figure and the memory
 * per connection are measured by the bench (`npm run bench -- memory`, and the soak case), not
 * here: mocha asserts behaviour, not resources.
 */
import { expect } from 'chai';
import { AuthLevel } from '../../lib/auth.js';
import { Harness, strs, waitFor } from '../helpers/omq.js';
import { RawPeer } from '../helpers/raw.js';

const COUNT = 2_000;
/** Opened this many at a time, each batch handshaken before the next (well under any handshake cap). */
const BATCH = 100;

describe(`fault: ${COUNT.toLocaleString('en')} connections to one listener`, function () {
  this.timeout(60_000);
  const h = new Harness();
  const peers: RawPeer[] = [];
  afterEach(async () => {
    for (const p of peers.splice(0)) p.destroy();
    await h.closeAll();
  });

  it('accepts and counts every connection, answers requests while all are open, and counts them down as they close', async () => {
    let open = 0;
    let accepted = 0;
    let closed = 0;
    const s = await h.server('plain', (o) => o.addCategory('x', AuthLevel.none).addRequestCommand('echo', (m) => m.sendReply(...m.data)));
    s.omq.on('accept', () => {
      accepted++;
      open++;
    });
    s.omq.on('close', () => {
      closed++;
      open--;
    });

    for (let i = 0; i < COUNT; i += BATCH) {
      const batch = await Promise.all(Array.from({ length: BATCH }, () => RawPeer.connect(s.port)));
      for (const p of batch) {
        peers.push(p);
        p.sendGreeting();
        p.sendReady('DEALER');
      }
      await Promise.all(batch.map((p) => p.until(() => p.commands().includes('READY'), 'the listener’s READY', 20_000)));
    }
    await waitFor(() => accepted === COUNT, `all ${COUNT} connections accepted`, 20_000);
    expect(open).to.equal(COUNT);

    // Every 100th raw peer asks for an echo: each gets its own answer back.
    const askers = peers.filter((_, i) => i % 100 === 0);
    askers.forEach((p, i) => p.sendMessage('x.echo', `tag${i}`, `n${i}`));
    await Promise.all(askers.map((p) => p.until(() => p.frames.some((f) => !(f.flags & 0x04)), 'the echo', 20_000)));
    askers.forEach((p, i) => {
      const data = p.frames.filter((f) => !(f.flags & 0x04)).map((f) => f.body.toString());
      expect(data).to.deep.equal(['REPLY', `tag${i}`, `n${i}`]);
    });
    // And an OxenMQ client, connecting while the 2,000 are open, is served too.
    const c = await h.client();
    const id = await c.connectRemote(s.address);
    expect(strs(await c.request(id, 'x.echo', ['still here']))).to.deep.equal(['still here']);

    const half = peers.splice(0, COUNT / 2);
    for (const p of half) p.destroy();
    await waitFor(() => closed === COUNT / 2, 'half of them to be counted down', 20_000);
    expect(open).to.equal(COUNT / 2 + 1); // the OxenMQ client is still connected
    expect(strs(await c.request(id, 'x.echo', ['after']))).to.deep.equal(['after']);
  });
});
