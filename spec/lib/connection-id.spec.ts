/**
 * ConnectionID equality, hash-key and text rules (oxen-mq `oxenmq/connections.h`).
 */
import { expect } from 'chai';
import { ConnectionID, SN_ID } from '../../lib/connection-id.js';

const PK_A = new Uint8Array(32).fill(0xaa);
const PK_B = new Uint8Array(32).fill(0xbb);
const route = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('lib/connection-id', () => {
  it('defaults to the invalid id 0 with empty pubkey and route', () => {
    const c = new ConnectionID();
    expect(c.id).to.equal(0);
    expect(c.valid).to.equal(false);
    expect(c.isSn).to.equal(false);
    expect(c.pubkey.length).to.equal(0);
    expect(c.route.length).to.equal(0);
    expect(new ConnectionID(1).valid).to.equal(true);
    expect(ConnectionID.sn(PK_A).valid).to.equal(true);
  });

  it('SN form requires exactly 32 bytes', () => {
    expect(() => ConnectionID.sn(new Uint8Array(31))).to.throw(RangeError);
    expect(() => ConnectionID.sn(new Uint8Array(33))).to.throw(RangeError);
    expect(() => new ConnectionID(SN_ID, new Uint8Array(0))).to.throw(RangeError);
    const sn = ConnectionID.sn(PK_A);
    expect(sn.id).to.equal(-1);
    expect(sn.isSn).to.equal(true);
  });

  it('rejects non-integer ids and ids below -1', () => {
    expect(() => new ConnectionID(1.5)).to.throw(TypeError);
    expect(() => new ConnectionID(-2)).to.throw(TypeError);
    expect(() => new ConnectionID(1, 'x' as unknown as Uint8Array)).to.throw(TypeError);
  });

  it('SN forms are equal iff pubkeys are equal', () => {
    const a1 = ConnectionID.sn(PK_A);
    const a2 = ConnectionID.sn(Uint8Array.from(PK_A));
    const b = ConnectionID.sn(PK_B);
    expect(a1.equals(a2)).to.equal(true);
    expect(a1.key).to.equal(a2.key);
    expect(a1.equals(b)).to.equal(false);
    expect(a1.key).to.not.equal(b.key);
    // An SN form never equals a connection form, even with the same pubkey.
    const conn = new ConnectionID(1, PK_A);
    expect(a1.equals(conn)).to.equal(false);
    expect(a1.key).to.not.equal(conn.key);
  });

  it('non-SN forms compare id and route, ignoring the pubkey', () => {
    const returned = new ConnectionID(3);
    const onConnect = new ConnectionID(3, PK_A); // the copy on_connect receives carries the pubkey
    expect(returned.equals(onConnect)).to.equal(true);
    expect(returned.key).to.equal(onConnect.key);
    expect(new ConnectionID(3).equals(new ConnectionID(4))).to.equal(false);
    expect(new ConnectionID(3).key).to.not.equal(new ConnectionID(4).key);
  });

  it('two routes on one listener are distinct', () => {
    const c1 = new ConnectionID(1, PK_A, route(0x4c, 1, 2));
    const c2 = new ConnectionID(1, PK_A, route(0x4c, 1, 3));
    const c1again = new ConnectionID(1, PK_B, route(0x4c, 1, 2));
    expect(c1.equals(c2)).to.equal(false);
    expect(c1.key).to.not.equal(c2.key);
    expect(c1.equals(c1again)).to.equal(true);
    expect(c1.key).to.equal(c1again.key);
    // A listener's peer is not the listener's own outgoing-style id.
    expect(c1.equals(new ConnectionID(1))).to.equal(false);
  });

  it('key works as a Map key consistently with equals', () => {
    const m = new Map<string, string>();
    m.set(ConnectionID.sn(PK_A).key, 'sn');
    m.set(new ConnectionID(1, new Uint8Array(0), route(0, 0xff)).key, 'r1');
    m.set(new ConnectionID(1).key, 'plain');
    m.set(new ConnectionID(11).key, 'eleven');
    expect(m.size).to.equal(4);
    expect(m.get(ConnectionID.sn(Uint8Array.from(PK_A)).key)).to.equal('sn');
    expect(m.get(new ConnectionID(1, PK_B, route(0, 0xff)).key)).to.equal('r1');
    expect(m.get(new ConnectionID(1, PK_B).key)).to.equal('plain');
    // id 1 + route "1:" must not collide with id 11 + empty route
    expect(new ConnectionID(1, undefined, route(0x31)).key).to.not.equal(new ConnectionID(11).key);
  });

  it('from() treats a bare 32-byte key as the SN form', () => {
    expect(ConnectionID.from(PK_A).equals(ConnectionID.sn(PK_A))).to.equal(true);
    const c = new ConnectionID(5);
    expect(ConnectionID.from(c)).to.equal(c);
    expect(() => ConnectionID.from(new Uint8Array(5))).to.throw(RangeError);
  });

  it('is immutable', () => {
    const c = new ConnectionID(2, PK_A, route(1));
    expect(Object.isFrozen(c)).to.equal(true);
    expect(() => {
      (c as unknown as { id: number }).id = 3;
    }).to.throw(TypeError);
    expect(c.id).to.equal(2);
    expect(c.key).to.equal(c.key); // lazily cached despite the freeze
  });

  it('has the three log forms', () => {
    expect(ConnectionID.sn(PK_A).toString()).to.equal('SN ' + 'aa'.repeat(32));
    expect(new ConnectionID(7, PK_B, route(1)).toString()).to.equal('non-SN authenticated remote ' + 'bb'.repeat(32));
    expect(new ConnectionID(7).toString()).to.equal('unauthenticated remote [7]');
    expect(String(new ConnectionID(7))).to.equal('unauthenticated remote [7]');
  });
});
