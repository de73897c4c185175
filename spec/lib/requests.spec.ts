/**
 * Request bookkeeping without a socket: tags, completion by tag from any connection, error
 * replies, the timeout sweep and shutdown.
 */
import { expect } from 'chai';
import { RequestError } from '../../lib/errors.js';
import { ConnectionID } from '../../lib/connection-id.js';
import { Requests, TAG_BYTES } from '../../lib/requests.js';

const CONN = new ConnectionID(1);

async function outcome(p: Promise<Uint8Array[]>): Promise<string> {
  try {
    return 'ok:' + (await p).map(String).join(',');
  } catch (err) {
    expect(err).to.be.instanceOf(RequestError);
    return 'err:' + (err as RequestError).code;
  }
}

describe('lib/requests', () => {
  it('tags are 15 bytes, all distinct across pool refills', () => {
    const r = new Requests();
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const t = r.newTag();
      expect(t.length).to.equal(TAG_BYTES);
      seen.add(Buffer.from(t).toString('hex'));
    }
    expect(seen.size).to.equal(1000);
  });

  it('a reply resolves its request with the data; the tag is then forgotten', async () => {
    const r = new Requests();
    const tag = r.newTag();
    const p = r.add(tag, 'x.echo', CONN, 100);
    expect(r.size).to.equal(1);
    expect(r.resolve(Buffer.from(tag), [Buffer.from('a'), Buffer.from('b')])).to.equal(true);
    expect(await outcome(p)).to.equal('ok:a,b');
    expect(r.size).to.equal(0);
    expect(r.resolve(tag, [])).to.equal(false);
  });

  it('a tag matches exactly: one differing only after its first six bytes, or of another length, completes nothing', () => {
    const r = new Requests();
    const tag = r.newTag();
    void r.add(tag, 'x.echo', CONN, 100);
    const near = Buffer.from(tag);
    near[14] ^= 0xff;
    expect(r.resolve(near, [])).to.equal(false);
    expect(r.resolve(Buffer.concat([tag, Buffer.from([0])]), [])).to.equal(false);
    expect(r.resolve(tag.subarray(0, 14), [])).to.equal(false);
    expect(r.size).to.equal(1);
    expect(r.resolve(Buffer.from(tag), [])).to.equal(true);
  });

  it('an unknown tag completes nothing', () => {
    const r = new Requests();
    void r.add(r.newTag(), 'x.echo', CONN, 100);
    expect(r.resolve(Buffer.from('not a tag'), [])).to.equal(false);
    expect(r.reject(Buffer.from('not a tag'), 'FORBIDDEN')).to.equal(false);
    expect(r.size).to.equal(1);
  });

  it('an error reply rejects with its code and the command', async () => {
    const r = new Requests();
    const tag = r.newTag();
    const p = r.add(tag, 'admin.stats', CONN, 100);
    expect(r.reject(tag, 'FORBIDDEN')).to.equal(true);
    const err = await p.then(
      () => undefined,
      (e: RequestError) => e,
    );
    expect(err?.code).to.equal('FORBIDDEN');
    expect(err?.command).to.equal('admin.stats');
  });

  it('the sweep times out exactly the requests at or past their deadline', async () => {
    const r = new Requests();
    const early = r.add(r.newTag(), 'a', CONN, 100);
    const late = r.add(r.newTag(), 'b', CONN, 200);
    expect(r.sweep(99)).to.equal(0);
    expect(r.sweep(100)).to.equal(1);
    expect(await outcome(early)).to.equal('err:TIMEOUT');
    expect(r.size).to.equal(1);
    expect(r.sweep(250)).to.equal(1);
    expect(await outcome(late)).to.equal('err:TIMEOUT');
  });

  it('failAll rejects every pending request with the error it is given', async () => {
    const r = new Requests();
    const ps = [r.add(r.newTag(), 'a', CONN, 1e9), r.add(r.newTag(), 'b', CONN, 1e9)];
    r.failAll((command) => new RequestError('TIMEOUT', command, 'closed'));
    expect(await Promise.all(ps.map(outcome))).to.deep.equal(['err:TIMEOUT', 'err:TIMEOUT']);
    expect(r.size).to.equal(0);
  });
});
