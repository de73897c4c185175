/**
 * Bursts: 10,000 requests issued in one synchronous loop on one connection all succeed with the
 * default options, plain and CURVE. The send queue's byte budget bounds such a burst, not the
 * 1000-message mark (which used to refuse everything after the first thousand queued in the
 * turn: 9,798 failed at once). Both sides run on manual clocks, so no timeout can fire while the
 * burst goes through: only a refused send can fail a request here. (The server's category has
 * no queue limit: C++'s default of 200 queued commands would drop most of a burst by design.)
 */
import { expect } from 'chai';
import { AuthLevel, type Message } from '../../lib/index.js';
import { ManualClock } from '../../zmtp/clock.js';
import { Harness, MODES } from '../helpers/omq.js';

const N = 10_000;

describe('fault: bursts of requests', () => {
  const h = new Harness();
  afterEach(() => h.closeAll());

  for (const mode of MODES) {
    it(`[${mode}] ${N} requests issued in one loop on one connection all get their reply`, async function () {
      this.timeout(60_000);
      const s = await h.server(mode, (o) => o.addCategory('b', AuthLevel.none, 0, -1).addRequestCommand('echo', (m: Message) => m.sendReply(m.data[0]!)), {
        clock: new ManualClock(),
      });
      const c = await h.client({ clock: new ManualClock() });
      const conn = await c.connectRemote(s.address);
      const pending: Promise<Uint8Array[]>[] = [];
      for (let i = 0; i < N; i++) pending.push(c.request(conn, 'b.echo', [`${i}`]));
      const results = await Promise.allSettled(pending);
      const failed = results.filter((r) => r.status === 'rejected');
      expect(failed.length, `first failure: ${(failed[0] as PromiseRejectedResult | undefined)?.reason}`).to.equal(0);
      const replies = results.map((r) => (r as PromiseFulfilledResult<Uint8Array[]>).value[0]!.toString());
      expect(replies[0]).to.equal('0');
      expect(replies[N - 1]).to.equal(`${N - 1}`);
      expect(new Set(replies).size).to.equal(N);
    });
  }
});
