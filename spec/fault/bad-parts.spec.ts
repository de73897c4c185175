/**
 * Atomic sends: a part that is neither a string nor bytes, on any send path, is refused before
 * anything is written — a TypeError naming its index (thrown by send-like calls, a rejection from
 * request-like ones) — and the connection stays exact: the next message arrives whole, alone and
 * unchanged. Raw ZMTP peers show the exact frames on the wire.
 */
import { expect } from 'chai';
import { AuthLevel, type DeferredSend, type Message, dataParts } from '../../lib/index.js';
import { Harness, MODES, rejection, strs } from '../helpers/omq.js';

/** Not parts: counted from 0 after the command, "argument N" / "part N" in the error. */
const BAD: unknown[] = [undefined, null, 42, {}, ['x'], new ArrayBuffer(2)];

describe('fault: bad parts on every send path', () => {
  const h = new Harness();
  afterEach(() => h.closeAll());

  it('dataParts() checks every element at once and names the bad one', () => {
    expect(() => dataParts(['x', null as unknown as string, 'y'])).to.throw(TypeError, /part 1 is null/);
    expect(() => dataParts('a', [undefined as unknown as string])).to.throw(TypeError, /part 1 is undefined/);
    expect(() => dataParts([1 as unknown as string])).to.throw(TypeError, /part 0 is number/);
    expect(dataParts('a', ['b', Buffer.from('c')]).parts).to.have.length(3);
  });

  for (const mode of MODES) {
    it(`[${mode}] send() and request() refuse a bad part before writing; the next message arrives exact`, async () => {
      const peer = await h.rawRouter(mode);
      const c = await h.client();
      const id = await c.connectRemote(peer.address);
      await peer.nth(1, 'HI');
      for (const bad of BAD) {
        // send: the bad part is an argument (or inside a spliced range).
        // (undefined and null are unset optionals at the top level, and a plain object is options.)
        if (bad !== undefined && bad !== null && Object.getPrototypeOf(bad) !== Object.prototype) {
          expect(() => c.send(id, 's.count', 'ok', bad as string)).to.throw(TypeError, /argument 1/);
        }
        expect(() => c.send(id, 's.count', dataParts(['ok', bad as string]))).to.throw(TypeError, /part 1/);
        // request: the parts array is checked and the promise rejects.
        const err = await rejection(c.request(id, 's.count', ['ok', bad as string]));
        expect(err).to.be.instanceOf(TypeError);
        expect(err.message).to.match(/part 1/);
      }
      c.send(id, 's.count', 'good0');
      const next = await peer.nth(2, 'the good message');
      expect(strs(next.frames)).to.deep.equal(['s.count', 'good0']);
      // And nothing else came: a request now is the next (third) message on the wire.
      const pending = c.request(id, 's.req', ['after'], { timeout: 2000 });
      const third = await peer.nth(3, 'the request');
      expect(strs(third.frames)[0]).to.equal('s.req');
      expect(third.frames.at(-1)!.toString()).to.equal('after');
      peer.router.send(third.route, ['REPLY', third.frames[1]!, 'fine']);
      expect(strs(await pending)).to.deep.equal(['fine']);
      expect(peer.received).to.have.length(3);
    });

    it(`[${mode}] sendBack, sendReply, sendRequest and DeferredSend refuse bad parts; the peer sees only good messages`, async () => {
      const outcomes: string[] = [];
      let later: DeferredSend | undefined;
      const s = await h.server(mode, (o) =>
        o.addCategory('t', AuthLevel.none).addRequestCommand('go', async (m: Message) => {
          const catchIt = (label: string, fn: () => unknown) => {
            try {
              fn();
              outcomes.push(`${label}: no error`);
            } catch (err) {
              outcomes.push(`${label}: ${(err as Error).name} ${/part \d|argument \d/.exec((err as Error).message)?.[0]}`);
            }
          };
          catchIt('sendBack', () => m.sendBack('c.note', 'x', 7 as unknown as string));
          catchIt('sendReply', () => m.sendReply('x', dataParts([null as unknown as string])));
          const r = await m.sendRequest('c.q', ['x', undefined as unknown as string]).then(
            () => 'resolved',
            (e: Error) => `${e.name} ${/part \d/.exec(e.message)?.[0]}`,
          );
          outcomes.push(`sendRequest: ${r}`);
          later = m.sendLater();
          catchIt('later.reply', () => later!.reply(Symbol('x') as unknown as string));
          catchIt('later.back', () => later!.back('c.note', [] as unknown as string));
          const lr = await later.request('c.q', [{} as unknown as string]).then(
            () => 'resolved',
            (e: Error) => `${e.name} ${/part \d/.exec(e.message)?.[0]}`,
          );
          outcomes.push(`later.request: ${lr}`);
          m.sendReply('clean');
        }),
      );
      const d = h.rawDealer(mode, s.endpoint, mode === 'curve' ? s.omq.pubkey : undefined);
      d.send('t.go', 'tag1');
      const reply = await d.nth(1, 'the reply');
      expect(strs(reply)).to.deep.equal(['REPLY', 'tag1', 'clean']);
      expect(outcomes).to.deep.equal([
        'sendBack: TypeError argument 1',
        'sendReply: TypeError part 0',
        'sendRequest: TypeError part 1',
        'later.reply: TypeError argument 1',
        'later.back: TypeError argument 0',
        'later.request: TypeError part 0',
      ]);
      // Nothing else reached the peer: a HI now gets the very next answer.
      d.send('HI');
      expect(strs(await d.nth(2, 'HELLO'))).to.deep.equal(['HELLO']);
      expect(d.received).to.have.length(2);
    });
  }
});
