/**
 * The `oxenmq-ts/zmtp` surface is exactly the public classes and values, and the seam for the
 * layers above is no wider than what they use.
 */
import { expect } from 'chai';
import * as seam from '../../zmtp/index.js';
import * as pub from '../../zmtp/public.js';

describe('zmtp/public', () => {
  it('exposes the sockets, the NULL mechanism, the errors, the clocks and the byte budget, and no engine internals', () => {
    expect(Object.keys(pub).sort()).to.deep.equal(
      ['ByteBudget', 'ManualClock', 'ZmtpDealer', 'ZmtpError', 'ZmtpErrorCode', 'ZmtpRouter', 'isZmtpError', 'nullMechanism', 'systemClock'].sort(),
    );
  });

  it('the seam for curve/ and lib/ keeps the decoder, encoder, connection and greeting behind it', () => {
    for (const internal of ['Decoder', 'Encoder', 'ZmtpConnection', 'SendQueue', 'Admission', 'resolveOptions', 'encodeGreeting', 'decodeGreeting', 'OutputSlab']) {
      expect(seam, internal).not.to.have.property(internal);
    }
    for (const value of Object.keys(pub)) expect(seam, value).to.have.property(value);
  });
});
