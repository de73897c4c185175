import { expect } from 'chai';
import { randomBytes, randomInto } from '../../curve/random.js';

describe('curve/random', () => {
  it('fills exactly the requested range, leaving the bytes around it untouched', () => {
    const out = new Uint8Array(64).fill(0xaa);
    randomInto(out, 8, 32);
    expect([...out.subarray(0, 8), ...out.subarray(40)].every((b) => b === 0xaa)).to.equal(true);
    expect(out.subarray(8, 40).some((b) => b !== 0xaa)).to.equal(true);
  });

  it('never hands out the same bytes twice, across batch refills and for draws larger than a batch', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(Buffer.from(randomBytes(32)).toString('hex')); // 6400 bytes: several batches
    expect(seen.size).to.equal(200);
    const big = randomBytes(3000);
    expect(big).to.have.length(3000);
    // 3000 random bytes with one value in more than 5% of them would be a broken generator.
    const counts = new Array<number>(256).fill(0);
    for (const b of big) counts[b]!++;
    expect(Math.max(...counts)).to.be.below(150);
    expect(Buffer.from(big.subarray(2000)).equals(Buffer.alloc(1000))).to.equal(false);
  });
});
