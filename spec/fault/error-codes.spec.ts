/**
 * Failures say what happened: a listener that cannot bind has its own code with the system error
 * as cause; a request the instance closed under is ERR_OMQ_CLOSED, not TIMEOUT.
 */
import { expect } from 'chai';
import { AuthLevel, OmqErrorCode, RequestError } from '../../lib/index.js';
import { Harness, rejection } from '../helpers/omq.js';

describe('fault: error codes', () => {
  const h = new Harness();
  afterEach(() => h.closeAll());

  it('a port already in use is ERR_OMQ_BIND_FAILED with the EADDRINUSE system error as cause, before and after start()', async () => {
    const first = await h.server('plain');
    const late = h.omq();
    await late.start();
    const err = await rejection(late.listenPlain(first.endpoint));
    expect(err.code).to.equal(OmqErrorCode.BIND_FAILED);
    expect((err.cause as { code?: string }).code).to.equal('EADDRINUSE');
    expect(err.message).to.contain('EADDRINUSE');
    const early = h.omq();
    const p = early.listenCurve(first.endpoint);
    const startErr = await rejection(early.start());
    expect(startErr.code).to.equal(OmqErrorCode.BIND_FAILED);
    expect((await rejection(p)).code).to.equal(OmqErrorCode.BIND_FAILED);
  });

  it('closing the instance fails pending requests with ERR_OMQ_CLOSED', async () => {
    const s = await h.server('plain', (o) => o.addCategory('x', AuthLevel.none).addRequestCommand('silent', () => {}));
    const c = await h.client();
    const id = await c.connectRemote(s.address);
    const pending = rejection(c.request(id, 'x.silent', [], { timeout: 60_000 }));
    await c.close(0);
    const err = await pending;
    expect(err).to.be.instanceOf(RequestError);
    expect(err.code).to.equal(OmqErrorCode.CLOSED);
  });
});
