/**
 * A listener closed and started again on the same port while a client has requests in flight:
 * the client's connection redials by itself (on its reconnect back-off, run on a ManualClock),
 * keeps its ConnectionID, and later requests succeed. What happens to each request is asserted:
 * one already delivered to the old listener cannot be answered by the new one and fails with
 * TIMEOUT at its own deadline (as C++ oxenmq: the request stays pending until then); one issued
 * while the connection is down is queued and delivered to the new listener, which answers it.
 */
import { expect } from 'chai';
import { generateKeypair } from '../../curve/index.js';
import { AuthLevel } from '../../lib/auth.js';
import type { OxenMQ } from '../../lib/index.js';
import { ManualClock } from '../../zmtp/index.js';
import { Harness, MODES, expectDueIn, outcome, strs, waitFor } from '../helpers/omq.js';

describe('fault: listener restart on the same port with requests in flight', () => {
  const h = new Harness();
  afterEach(() => h.closeAll());

  for (const mode of MODES) {
    it(`[${mode}] the client redials by itself; delivered requests TIMEOUT at their deadline, queued ones reach the new listener, later ones succeed`, async () => {
      const keys = generateKeypair();
      let held = 0;
      const setup = (tag: string) => (o: OxenMQ) =>
        o
          .addCategory('x', AuthLevel.none)
          .addRequestCommand('echo', (m) => m.sendReply(tag, ...m.data))
          .addRequestCommand('hold', () => void held++); // never answers: the request stays in flight
      const first = await h.server(mode, setup('first'), { pubkey: keys.publicKey, privkey: keys.secretKey });

      const clock = new ManualClock();
      const c = await h.client({ clock, reconnectInterval: 100, reconnectIntervalMax: 100 });
      const events: string[] = [];
      c.on('disconnect', (e) => events.push(`disconnect reconnecting=${e.reconnecting}`));
      c.on('connect', () => events.push('connect'));
      const id = await c.connectRemote(first.address);
      expect(strs(await c.request(id, 'x.echo', ['a']))).to.deep.equal(['first', 'a']);

      const inFlight = [0, 1, 2].map(() => outcome(c.request(id, 'x.hold', [], { timeout: 10_000 })));
      await waitFor(() => held === 3, 'the held requests to reach the first listener');

      await first.omq.close(0);
      await waitFor(() => events.includes('disconnect reconnecting=true'), 'the client to see the drop');
      const queued = c.request(id, 'x.echo', ['queued'], { timeout: 10_000 });

      const second = h.omq({ pubkey: keys.publicKey, privkey: keys.secretKey });
      setup('second')(second);
      const bound = mode === 'curve' ? second.listenCurve(first.endpoint) : second.listenPlain(first.endpoint);
      await second.start();
      expect(await bound).to.equal(first.endpoint);

      // The redial waits for its back-off, then happens by itself (no call of ours).
      const connects = () => events.filter((e) => e === 'connect').length;
      expect(connects()).to.equal(1);
      await expectDueIn(clock, 100, () => connects() === 2, 'the reconnect');
      expect(strs(await queued)).to.deep.equal(['second', 'queued']);
      expect(strs(await c.request(id, 'x.echo', ['later']))).to.deep.equal(['second', 'later']);
      expect(held, 'the new listener never saw the old requests').to.equal(3);

      expect(inFlight.map((o) => o())).to.deep.equal([undefined, undefined, undefined]);
      await expectDueIn(clock, 10_000 - 100, () => inFlight.every((o) => o() !== undefined), 'the in-flight requests to time out');
      expect(inFlight.map((o) => o())).to.deep.equal(['TIMEOUT', 'TIMEOUT', 'TIMEOUT']);
    });
  }
});
