/**
 * Subscription<UserData> (oxen-mq `oxenmq/pubsub.h`), after upstream tests/test_pubsub.cpp, with a manual
 * clock instead of sleeps.
 */
import { expect } from 'chai';
import { ConnectionID } from '../../lib/connection-id.js';
import { DEFAULT_SUBSCRIPTION_DURATION_MS, Subscription } from '../../lib/pubsub.js';
import { ManualClock } from '../../zmtp/clock.js';

const PK = new Uint8Array(32).fill(7);
/** A client connected to listener 1 with the given routing id. */
const client = (routeByte: number, pubkey: Uint8Array = PK): ConnectionID =>
  new ConnectionID(1, pubkey, Uint8Array.of(0x4c, routeByte));

describe('lib/pubsub', () => {
  it('subscribe gives true for a new subscriber and false for a refresh; publish reaches it once per call', () => {
    const clock = new ManualClock();
    const greetings = new Subscription('greetings', undefined, clock);
    expect(greetings.durationMs).to.equal(DEFAULT_SUBSCRIPTION_DURATION_MS);
    const c = client(1);
    expect(greetings.subscribe(c)).to.equal(true);
    expect(greetings.subscribe(c)).to.equal(false);
    const sent: ConnectionID[] = [];
    greetings.publish((conn) => sent.push(conn));
    expect(sent).to.have.length(1);
    expect(sent[0]!.equals(c)).to.equal(true);
    greetings.publish((conn) => sent.push(conn));
    expect(sent).to.have.length(2);
  });

  it('with several subscribers, each live one gets one publish per call', () => {
    const greetings = new Subscription('greetings', 60_000, new ManualClock());
    const c1 = client(1);
    const c2 = client(2);
    expect(greetings.subscribe(c1)).to.equal(true);
    expect(greetings.subscribe(c2)).to.equal(true);
    // Same listener and route, other pubkey view: the same subscriber (pubkey is ignored).
    expect(greetings.subscribe(client(1, new Uint8Array(0)))).to.equal(false);
    const counts = new Map<string, number>();
    for (let i = 0; i < 3; i++) greetings.publish((conn) => counts.set(conn.key, (counts.get(conn.key) ?? 0) + 1));
    expect(counts.size).to.equal(2);
    expect(counts.get(c1.key)).to.equal(3);
    expect(counts.get(c2.key)).to.equal(3);
    // The SN form is keyed by pubkey, distinct from a connection form.
    expect(greetings.subscribe(ConnectionID.sn(PK))).to.equal(true);
    expect(greetings.subscribe(ConnectionID.sn(Uint8Array.from(PK)))).to.equal(false);
    expect(greetings.size).to.equal(3);
  });

  it('user data: different data returns true and replaces it, same data is a refresh', () => {
    const greetings = new Subscription<string>('greetings', 60_000, new ManualClock());
    const c = client(1);
    expect(greetings.subscribe(c, 'foo')).to.equal(true);
    expect(greetings.subscribe(c, 'foo')).to.equal(false);
    const got: string[] = [];
    greetings.publish((_conn, data) => got.push(data));
    expect(got).to.deep.equal(['foo']);
    expect(greetings.subscribe(c, 'bar')).to.equal(true);
    greetings.publish((_conn, data) => got.push(data));
    expect(got).to.deep.equal(['foo', 'bar']);
    expect(greetings.unsubscribe(c)).to.equal('bar');
    expect(greetings.unsubscribe(c)).to.equal(undefined);
  });

  it('user data equality: bytes by content by default, or a custom equals', () => {
    const bytes = new Subscription<Uint8Array>('bytes', 1000, new ManualClock());
    const c = client(1);
    expect(bytes.subscribe(c, Uint8Array.of(1, 2))).to.equal(true);
    expect(bytes.subscribe(c, Uint8Array.of(1, 2))).to.equal(false);
    expect(bytes.subscribe(c, Uint8Array.of(1, 3))).to.equal(true);

    const levels = new Subscription<{ level: number }>('logs', 1000, {
      clock: new ManualClock(),
      equals: (a, b) => a.level === b.level,
    });
    expect(levels.subscribe(c, { level: 1 })).to.equal(true);
    expect(levels.subscribe(c, { level: 1 })).to.equal(false);
    expect(levels.subscribe(c, { level: 2 })).to.equal(true);
  });

  it('withData makes unsubscribe return undefined before any subscribe', () => {
    const s = new Subscription<string>('s', 1000, { clock: new ManualClock(), withData: true });
    expect(s.unsubscribe(client(1))).to.equal(undefined);
    const v = new Subscription('v', 1000, new ManualClock());
    expect(v.unsubscribe(client(1))).to.equal(false);
  });

  it('unsubscribe returns true once, then false, and stops publishes', () => {
    const greetings = new Subscription('greetings', 60_000, new ManualClock());
    const c = client(1);
    greetings.subscribe(c);
    let n = 0;
    greetings.publish(() => n++);
    expect(n).to.equal(1);
    expect(greetings.unsubscribe(c)).to.equal(true);
    greetings.publish(() => n++);
    expect(n).to.equal(1);
    expect(greetings.unsubscribe(c)).to.equal(false);
  });

  it('a 250 ms subscription has expired 500 ms later, and removeExpired drops it', () => {
    const clock = new ManualClock();
    const greetings = new Subscription('greetings', 250, clock);
    const c = client(1);
    greetings.subscribe(c);
    clock.advance(500);
    expect(greetings.has(c)).to.equal(false);
    greetings.removeExpired();
    expect(greetings.size).to.equal(0);
    expect(greetings.unsubscribe(c)).to.equal(false);
  });

  it('expiry is strict (alive at exactly now + duration) and refreshed by re-subscribing', () => {
    const clock = new ManualClock();
    const s = new Subscription('s', 250, clock);
    const c = client(1);
    s.subscribe(c);
    clock.advance(250);
    s.removeExpired();
    expect(s.has(c)).to.equal(true);
    clock.advance(200);
    expect(s.subscribe(c)).to.equal(false); // refresh pushes expiry to 700
    clock.advance(200);
    s.removeExpired();
    expect(s.has(c)).to.equal(true);
    clock.advance(51);
    s.removeExpired();
    expect(s.size).to.equal(0);
  });

  it('publish skips and then removes expired subscribers', () => {
    const clock = new ManualClock();
    const s = new Subscription('s', 100, clock);
    const early = client(1);
    const late = client(2);
    s.subscribe(early);
    clock.advance(60);
    s.subscribe(late);
    clock.advance(60); // early expired at 100, late lives until 160
    const seen: string[] = [];
    s.publish((conn) => seen.push(conn.key));
    expect(seen).to.deep.equal([late.key]);
    expect(s.size).to.equal(1);
  });

  it('publish tolerates the callback subscribing and unsubscribing', () => {
    const s = new Subscription('s', 1000, new ManualClock());
    const a = client(1);
    const b = client(2);
    const c = client(3);
    s.subscribe(a);
    s.subscribe(b);
    const seen: string[] = [];
    s.publish((conn) => {
      seen.push(conn.key);
      if (conn.equals(a)) {
        s.unsubscribe(b); // not yet visited: must be skipped
        s.subscribe(c); // added during publish: not visited this round
      }
    });
    expect(seen).to.deep.equal([a.key]);
    const next: string[] = [];
    s.publish((conn) => next.push(conn.key));
    expect(next).to.deep.equal([a.key, c.key]);
  });

  it('rejects a bad duration', () => {
    expect(() => new Subscription('x', -1)).to.throw(RangeError);
    expect(() => new Subscription('x', Number.NaN)).to.throw(RangeError);
    expect(new Subscription('x').description).to.equal('x');
  });
});
