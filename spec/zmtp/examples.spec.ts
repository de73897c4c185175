/**
 * The @example blocks in the JSDoc of ZmtpRouter and ZmtpDealer run as written: each is taken
 * from the source, transpiled, pointed at the built package entry and run to completion.
 */
import { expect } from 'chai';
import { examples, runExample } from '../helpers/examples.js';

describe('zmtp: the documented examples', () => {
  for (const file of ['zmtp/router.ts', 'zmtp/dealer.ts']) {
    it(`the @example of ${file} runs to completion`, async () => {
      const blocks = examples(file);
      expect(blocks, 'one example').to.have.length(1);
      await runExample(blocks[0]!, { 'oxenmq-ts/zmtp': 'dist/zmtp/public.js' });
    });
  }
});
