/**
 * Node conventions: AbortSignal on request/connectRemote/sendRequest, `await using`, loggers that
 * keep their error objects (console- and pino-style), a default that makes handler exceptions
 * visible, a log level that changes at run time, and diagnostics_channel publications that cost
 * nothing without subscribers.
 */
import { expect } from 'chai';
import * as dc from 'node:diagnostics_channel';
import { AbortError, AuthLevel, OxenMQ } from '../../lib/index.js';
import { ManualClock } from '../../zmtp/clock.js';
import { Harness, RecordingLogger, rejection, strs, waitFor } from '../helpers/omq.js';
import { freePort } from '../helpers/net.js';

describe('lib: Node conventions', () => {
  const h = new Harness();
  afterEach(() => h.closeAll());

  describe('AbortSignal', () => {
    it('aborting a pending request rejects it with AbortError (cause: the reason) and forgets it; a late reply is ignored', async () => {
      let answer: (() => void) | undefined;
      const s = await h.server('plain', (o) =>
        o.addCategory('x', AuthLevel.none).addRequestCommand('slow', (m) => {
          const later = m.sendLater();
          answer = () => later.reply('late');
        }),
      );
      const c = await h.client();
      const id = await c.connectRemote(s.address);
      const ac = new AbortController();
      const p = rejection(c.request(id, 'x.slow', [], { signal: ac.signal, timeout: 60_000 }));
      await waitFor(() => answer !== undefined, 'the request to arrive');
      ac.abort(new Error('user gave up'));
      const err = await p;
      expect(err).to.be.instanceOf(AbortError);
      expect(err.name).to.equal('AbortError');
      expect(err.code).to.equal('ABORT_ERR');
      expect((err.cause as Error).message).to.equal('user gave up');
      // The pending entry is gone: the late reply is dropped, and another request still works.
      answer!();
      answer = undefined;
      const echo = c.request(id, 'x.slow', [], { timeout: 60_000 });
      await waitFor(() => answer !== undefined, 'second');
      answer!();
      expect(strs(await echo)).to.deep.equal(['late']);
    });

    it('an already aborted signal rejects at once and sends nothing', async () => {
      const seen: string[] = [];
      const s = await h.server('plain', (o) =>
        o.addCategory('x', AuthLevel.none).addRequestCommand('r', (m) => {
          seen.push('r');
          m.sendReply('ok');
        }),
      );
      const c = await h.client();
      const id = await c.connectRemote(s.address);
      const err = await rejection(c.request(id, 'x.r', [], { signal: AbortSignal.abort('no') }));
      expect(err).to.be.instanceOf(AbortError);
      expect(err.cause).to.equal('no');
      expect(strs(await c.request(id, 'x.r'))).to.deep.equal(['ok']);
      expect(seen).to.deep.equal(['r']);
    });

    it('aborting a pending connectRemote closes the connection attempt and rejects with AbortError', async () => {
      const c = await h.client();
      const port = await freePort(); // nobody listens: the dealer keeps retrying
      const ac = new AbortController();
      const p = rejection(c.connectRemote(`tcp://127.0.0.1:${port}`, { signal: ac.signal, timeout: 60_000 }));
      ac.abort();
      const err = await p;
      expect(err).to.be.instanceOf(AbortError);
      expect((await rejection(c.connectRemote(`tcp://127.0.0.1:${port}`, { signal: AbortSignal.abort() }))).name).to.equal('AbortError');
    });

    it('sendRequest takes a signal too', async () => {
      let outcome: string | undefined;
      const s = await h.server('plain', (o) =>
        o.addCategory('x', AuthLevel.none).addCommand('ask', (m) => {
          m.sendRequest('y.never', [], { signal: AbortSignal.abort('stop') }).then(
            () => (outcome = 'resolved'),
            (e: Error) => (outcome = e.name),
          );
        }),
      );
      const c = await h.client();
      const id = await c.connectRemote(s.address);
      c.send(id, 'x.ask');
      await waitFor(() => outcome !== undefined, 'the handler');
      expect(outcome).to.equal('AbortError');
    });
  });

  it('`await using` closes the instance at the end of the scope', async () => {
    let instance: OxenMQ | undefined;
    {
      await using omq = new OxenMQ({ logger: { warn() {}, error() {} } });
      await omq.start();
      instance = omq;
    }
    expect(() => instance!.connectInproc()).to.throw().with.property('code', 'ERR_OMQ_INVALID_STATE');
  });

  describe('logging', () => {
    it('a line with an error passes (error, message), so pino-style loggers keep it; plain lines pass (message)', async () => {
      const calls: unknown[][] = [];
      const sink = {
        warn: (...a: unknown[]) => void calls.push(['warn', ...a]),
        error: (...a: unknown[]) => void calls.push(['error', ...a]),
      };
      const s = await h.server('plain', (o) => o.addCategory('x', AuthLevel.none).addCommand('boom', () => {
        throw new RangeError('kaput');
      }), { logger: sink });
      const c = await h.client();
      const id = await c.connectRemote(s.address);
      c.send(id, 'x.boom');
      c.send(id, 'nope.nope');
      await waitFor(() => calls.length >= 2, 'two lines');
      const boom = calls.find((x) => x[0] === 'error')!;
      expect(boom[1]).to.be.instanceOf(RangeError);
      expect(boom[2]).to.be.a('string').and.to.contain('x.boom');
      const unknown = calls.find((x) => x[0] === 'warn')!;
      expect(unknown).to.have.length(2);
      expect(unknown[1]).to.contain('invalid command');
    });

    it('by default a handler that throws is a process warning (visible on stderr), not silence', async () => {
      const warnings: Error[] = [];
      const onWarning = (w: Error) => warnings.push(w);
      process.on('warning', onWarning);
      try {
        const s = h.omq({ logger: undefined });
        s.addCategory('x', AuthLevel.none).addCommand('boom', () => {
          throw new Error('handler broke');
        });
        await s.start();
        const c = await s.connectInproc();
        s.send(c, 'x.boom');
        await waitFor(() => warnings.some((w) => w.name === 'OxenMQWarning' && w.message.includes('handler broke')), 'the warning');
      } finally {
        process.off('warning', onWarning);
      }
    });

    it('the level can change at run time', async () => {
      const log = new RecordingLogger();
      const o = h.omq({ logger: log, logLevel: 'error' });
      o.addCategory('x', AuthLevel.none).addRequestCommand('ping', (m) => m.sendReply('pong'));
      await o.start();
      const c = await o.connectInproc();
      o.send(c, 'x.nope');
      await o.request(c, 'x.ping'); // processed in order: x.nope has been handled by now
      o.logLevel = 'warn';
      o.send(c, 'x.nope2');
      // x.nope2 gives two warnings (ours, and the echo of our UNKNOWNCOMMAND answer); x.nope none.
      await waitFor(() => log.matching('x.nope2').length === 2, 'the warn lines');
      expect(log.matching('invalid command')).to.have.length(1);
      expect(log.matching('"x.nope"')).to.have.length(0);
      expect(() => (o.logLevel = 'loud' as 'warn')).to.throw().with.property('code', 'ERR_OMQ_INVALID_ARGUMENT');
    });
  });

  describe('diagnostics_channel', () => {
    it('publishes request start/end with the outcome, and each admitted command', async () => {
      const starts: unknown[] = [];
      const ends: { command: string; outcome: string; durationMs: number }[] = [];
      const commands: { command: string; request: boolean }[] = [];
      const onStart = (m: unknown) => starts.push(m);
      const onEnd = (m: unknown) => ends.push(m as (typeof ends)[number]);
      const onCommand = (m: unknown) => commands.push(m as (typeof commands)[number]);
      dc.subscribe('oxenmq:request:start', onStart);
      dc.subscribe('oxenmq:request:end', onEnd);
      dc.subscribe('oxenmq:command', onCommand);
      try {
        const clock = new ManualClock();
        const s = await h.server('plain', (o) => {
          o.addCategory('x', AuthLevel.none).addRequestCommand('echo', (m) => m.sendReply(...m.data)).addRequestCommand('silent', () => {});
        });
        const c = await h.client({ clock });
        const id = await c.connectRemote(s.address);
        await c.request(id, 'x.echo', ['a']);
        const silent = rejection(c.request(id, 'x.silent', [], { timeout: 1000 }));
        await waitFor(() => commands.length === 2, 'both commands admitted');
        clock.advance(1500);
        expect((await silent).code).to.equal('TIMEOUT');
        expect(starts).to.have.length(2);
        expect(ends.map((e) => [e.command, e.outcome])).to.deep.equal([
          ['x.echo', 'reply'],
          ['x.silent', 'TIMEOUT'],
        ]);
        expect(ends[0]!.durationMs).to.be.at.least(0);
        expect(commands.map((m) => [m.command, m.request])).to.deep.equal([
          ['x.echo', true],
          ['x.silent', true],
        ]);
      } finally {
        dc.unsubscribe('oxenmq:request:start', onStart);
        dc.unsubscribe('oxenmq:request:end', onEnd);
        dc.unsubscribe('oxenmq:command', onCommand);
      }
    });
  });
});
