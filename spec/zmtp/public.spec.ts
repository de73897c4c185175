/**
 * The `oxenmq-ts/zmtp` surface is exactly the public classes and values, and the seam for the
 * layers above is no wider than what they use.
 */
import { expect } from 'chai';
import * as seam from '../../zmtp/index.js';
import * as node from '../../zmtp/node.js';
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
    // The Node transports (the ROUTER, the DEALER's net and ws connector) are node.ts's.
    for (const value of Object.keys(pub)) expect(value === 'ZmtpRouter' ? node : seam, value).to.have.property(value);
    expect(seam, 'ZmtpRouter').not.to.have.property('ZmtpRouter');
    expect(pub.ZmtpDealer).to.equal(node.ZmtpDealer);
    expect(new pub.ZmtpDealer()).to.be.an.instanceOf(seam.ZmtpDealer);
  });

  it('the runtime-neutral seam imports no Node built-in, directly or through its imports', async () => {
    const { build } = await import('esbuild');
    const seamFile = new URL('../../zmtp/index.js', import.meta.url).pathname;
    const result = await build({ entryPoints: [seamFile], bundle: true, platform: 'browser', write: false, logLevel: 'silent', metafile: true });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((f) => f.endsWith('zmtp/dealer.js'))).to.equal(true);
    expect(inputs.filter((f) => /node:|router\.js|zmtp\/ws\.js|ws-stream\.js/.test(f))).to.deep.equal([]);
  });
});
