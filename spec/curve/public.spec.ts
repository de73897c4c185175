/** The `oxenmq-ts/curve` surface: the mechanism factories, key helpers and Z85, nothing internal. */
import { expect } from 'chai';
import * as seam from '../../curve/index.js';
import * as pub from '../../curve/public.js';

describe('curve/public', () => {
  it('exposes the CURVE factories, key pairs and Z85, and no handshake or box internals', () => {
    expect(Object.keys(pub).sort()).to.deep.equal(
      ['KEY_BYTES', 'curveClient', 'curveServer', 'generateKeypair', 'publicKeyFromSecret', 'z85Decode', 'z85Encode'].sort(),
    );
    expect(Object.keys(seam).sort()).to.deep.equal(Object.keys(pub).sort());
  });
});
