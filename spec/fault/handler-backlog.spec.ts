/**
 * A peer that sends commands faster than their handlers run: what waits in a category queue
 * counts as that connection's input (`maxInputBytes`) and against the instance's `inputBudget`,
 * so past either the connection stops being read (TCP backpressure) instead of queueing without
 * bound, and once the handlers catch up reading resumes and every command runs: none is lost.
 */
import { expect } from 'chai';
import { type OxenMQOptions } from '../../lib/index.js';
import { Harness, flush } from '../helpers/omq.js';
import { waitFor } from '../helpers/net.js';

const KiB = 1024;
const PAYLOAD = 64 * KiB;
const SENT = 200; // 12.5 MiB in all
const LIMIT = 1024 * KiB;

describe('fault: handlers slower than their peer', () => {
  const h = new Harness();
  afterEach(() => h.closeAll());

  for (const [what, limit] of [
    ['maxInputBytes', { maxInputBytes: LIMIT }],
    ['the instance inputBudget', { maxInputBytes: -1, inputBudget: LIMIT }],
  ] as [string, OxenMQOptions][]) {
    it(`queued commands stop the connection being read past ${what}; once handlers catch up all ${SENT} run`, async () => {
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      let ran = 0;
      const server = await h.server(
        'plain',
        (o) =>
          o.addCategory('work', 'none', 0, -1).addCommand('job', async (m) => {
            await gate;
            if (m.data[0]!.length === PAYLOAD) ran++;
          }),
        { generalThreads: 1, ...limit },
      );
      const client = await h.client();
      const conn = await client.connectRemote(server.address);
      const payload = Buffer.alloc(PAYLOAD, 7);
      for (let i = 0; i < SENT; i++) client.send(conn, 'work.job', payload);

      // One handler runs (and waits at the gate); the rest queue until the limit stops reading.
      await waitFor(() => server.omq.stats().commandsQueued >= LIMIT / PAYLOAD - 2, 'commands to queue up to the limit');
      for (let i = 0; i < 50; i++) await flush();
      const queued = server.omq.stats().commandsQueued;
      // The limit, plus what was already in the chunk that went over it.
      expect(queued).to.be.within(LIMIT / PAYLOAD - 2, LIMIT / PAYLOAD + 4);

      open();
      await waitFor(() => ran === SENT, `all ${SENT} commands to run`);
      expect(server.omq.stats().commandsQueued).to.equal(0);
    });
  }
});
