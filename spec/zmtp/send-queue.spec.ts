import { expect } from 'chai';
import { ZmtpErrorCode } from '../../zmtp/errors.js';
import { SendQueue } from '../../zmtp/send-queue.js';

describe('zmtp/send-queue', () => {
  it('holds messages in order up to its high-water mark of settled messages, then refuses with ERR_ZMTP_QUEUE_FULL and queues nothing', () => {
    const q = new SendQueue(3);
    for (const m of ['a', 'b', 'c']) q.push([m]);
    q.settle();
    expect(() => q.push(['d'])).to.throw().with.property('code', ZmtpErrorCode.QUEUE_FULL);
    expect(q.length).to.equal(3);
    expect([q.shift(), q.shift()]).to.deep.equal([['a'], ['b']]);
    q.push(['e']);
    expect([q.shift(), q.shift(), q.shift()]).to.deep.equal([['c'], ['e'], undefined]);
  });

  it('a high-water mark of 0 refuses every message; clear() empties the queue', () => {
    expect(() => new SendQueue(0).push(['x'])).to.throw().with.property('code', ZmtpErrorCode.QUEUE_FULL);
    const q = new SendQueue(2);
    q.push(['x']);
    q.clear();
    expect(q.length).to.equal(0);
    expect(q.shift()).to.equal(undefined);
  });
});
