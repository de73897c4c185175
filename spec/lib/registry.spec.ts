/**
 * Registration rules (names, uniqueness, aliases, freezing) and what they look like from outside:
 * statistics keyed by the names as registered. No socket is opened.
 */
import { expect } from 'chai';
import { AuthLevel } from '../../lib/auth.js';
import { OmqErrorCode } from '../../lib/errors.js';
import { OxenMQ } from '../../lib/index.js';
import { Registry } from '../../lib/registry.js';
import { thrownCode } from '../helpers/omq.js';

const code = thrownCode;

describe('lib/registry', () => {
  it('category names are 1–50 bytes of UTF-8 without a dot, and unique', () => {
    const r = new Registry();
    expect(code(() => r.addCategory('', AuthLevel.none))).to.equal(OmqErrorCode.REGISTRATION);
    expect(code(() => r.addCategory('a.b', AuthLevel.none))).to.equal(OmqErrorCode.REGISTRATION);
    expect(code(() => r.addCategory('x'.repeat(51), AuthLevel.none))).to.equal(OmqErrorCode.REGISTRATION);
    // 25 two-byte characters are 50 bytes: allowed; 26 are 52: refused.
    expect(code(() => r.addCategory('é'.repeat(25), AuthLevel.none))).to.equal(undefined);
    expect(code(() => r.addCategory('é'.repeat(26), AuthLevel.none))).to.equal(OmqErrorCode.REGISTRATION);
    r.addCategory('x', AuthLevel.none);
    expect(code(() => r.addCategory('x', AuthLevel.admin))).to.equal(OmqErrorCode.REGISTRATION);
  });

  it('commands need their category, are unique in it and at most 200 bytes; aliases may not shadow them', () => {
    const r = new Registry();
    r.addCategory('c', AuthLevel.none);
    expect(code(() => r.addCommand('nope', 'x', () => {}, false))).to.equal(OmqErrorCode.REGISTRATION);
    r.addCommand('c', 'x', () => {}, false);
    expect(code(() => r.addCommand('c', 'x', () => {}, true))).to.equal(OmqErrorCode.REGISTRATION);
    expect(code(() => r.addCommand('c', 'y'.repeat(201), () => {}, false))).to.equal(OmqErrorCode.REGISTRATION);
    expect(code(() => r.addAlias('c.x', 'c.y'))).to.equal(OmqErrorCode.REGISTRATION);
    expect(code(() => r.addAlias('.x', 'c.x'))).to.equal(OmqErrorCode.REGISTRATION);
    expect(code(() => r.addAlias('old', 'nodot'))).to.equal(OmqErrorCode.REGISTRATION);
    r.addAlias('old', 'c.x');
    expect(code(() => r.addAlias('old', 'c.x'))).to.equal(OmqErrorCode.REGISTRATION);
    expect(code(() => r.addCommand('c', 'old', () => {}, false))).to.equal(undefined);
    r.addAlias('c.z', 'c.x');
    expect(code(() => r.addCommand('c', 'z', () => {}, false))).to.equal(OmqErrorCode.REGISTRATION);
  });

  it('a category the scheduler refuses (bad reservation) is not registered either', () => {
    const omq = new OxenMQ();
    expect(code(() => omq.addCategory('c', AuthLevel.none, -1))).to.equal(OmqErrorCode.INVALID_ARGUMENT);
    expect(code(() => omq.addCategory('c', AuthLevel.none))).to.equal(undefined);
  });

  it('after freeze() nothing can be registered', () => {
    const r = new Registry();
    r.addCategory('c', AuthLevel.none);
    r.freeze();
    expect(code(() => r.addCategory('d', AuthLevel.none))).to.equal(OmqErrorCode.INVALID_STATE);
    expect(code(() => r.addCommand('c', 'x', () => {}, false))).to.equal(OmqErrorCode.INVALID_STATE);
    expect(code(() => r.addAlias('a', 'c.x'))).to.equal(OmqErrorCode.INVALID_STATE);
  });

  it('stats() keys categories by their names as registered, not by internal keys', async () => {
    const omq = new OxenMQ();
    omq.addCategory('café', AuthLevel.none, 1, 7);
    omq.addCategory('plain', AuthLevel.none);
    expect(Object.keys(omq.stats().perCategory)).to.deep.equal(['café', 'plain']);
    expect(omq.stats().perCategory['café']).to.include({ reserved: 1, maxQueue: 7 });
    await omq.close();
  });
});
