import { expect } from 'chai';
import { describeCrash, fuzz } from './runner.js';
import { TARGETS } from './targets.js';

/** Inputs per target: the CURVE targets run real handshakes (about 1 ms each), so fewer of them. */
const countFor = (name: string) => (name.startsWith('curve-') ? 300 : 2_000);

/** A short, fixed-seed run of every fuzz target; `npm run fuzz` runs the long ones. */
describe('fuzz targets (2,000 inputs each, 300 for CURVE; fixed seed)', () => {
  for (const target of TARGETS) {
    it(`${target.name}: no throw other than the documented typed errors, every oracle holds`, () => {
      // No time limit here: timing goals live outside mocha (the CLI enforces 100 ms per input).
      const r = fuzz(target, { count: countFor(target.name), seed: 0x5eed, timeLimitMs: Infinity });
      expect(r.crash ? describeCrash(r.crash) : null).to.equal(null);
      // The inputs exercise both sides: some are accepted and some refused with a typed error.
      expect(r.rejected, 'inputs refused with a typed error').to.be.greaterThan(0);
      expect(r.rejected, 'inputs accepted').to.be.lessThan(r.inputs);
    });
  }
});

describe('fuzz runner', () => {
  const target = (thrown: () => unknown) => ({
    name: 'probe',
    description: 'throws what it is told',
    generate: (rng: { next(): number }) => rng.next(),
    run: () => {
      throw thrown();
    },
    accepts: (err: unknown) => err instanceof RangeError,
    show: (i: number) => String(i),
  });

  it('counts an accepted typed error as a rejected input, not a crash', () => {
    const r = fuzz(target(() => new RangeError('fine')), { count: 50, seed: 1, timeLimitMs: Infinity });
    expect(r.crash).to.equal(undefined);
    expect(r.rejected).to.equal(50);
  });

  it('stops at the first other throw and reports its seed, index and input', () => {
    const r = fuzz(target(() => new TypeError('boom')), { count: 50, seed: 7, start: 3, timeLimitMs: Infinity });
    expect(r.crash).to.include({ target: 'probe', seed: 7, index: 3, kind: 'throw' });
    expect(describeCrash(r.crash!)).to.match(/--seed 7 --start 3 --count 1/);
  });

  it('reports an input slower than the time limit on three runs as a crash', () => {
    const slow = { ...target(() => new RangeError('fine')), run: () => {} };
    const r = fuzz(slow, { count: 5, seed: 1, timeLimitMs: -1 });
    expect(r.crash?.kind).to.equal('slow');
  });

  it('generates the same inputs from the same seed', () => {
    const seen: number[][] = [[], []];
    for (const k of [0, 1]) fuzz({ ...target(() => new RangeError('x')), generate: (rng) => (seen[k]!.push(rng.next()), 0) }, { count: 20, seed: 42, timeLimitMs: Infinity });
    expect(seen[0]).to.deep.equal(seen[1]);
    expect(new Set(seen[0]).size).to.equal(20);
  });
});
