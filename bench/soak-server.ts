/**
 * Entry of the `soak` case's listener process (dist/bench/soak-server.js), forked with
 * --expose-gc so each memory sample follows a full collection: an OxenMQ CURVE listener with a
 * `soak.echo` request command and nothing else, so its memory over time is what sustained load,
 * connection churn and a slow consumer cost. It counts the warnings it logs (a slow consumer's
 * dropped replies) instead of printing them, answers the case over IPC and exits when the parent
 * disconnects.
 */
import { AuthLevel, OxenMQ } from '../lib/index.js';
import type { CurveKeys } from './protocol.js';
import { serveParent } from './child.js';
import { cpuUs } from './stopwatch.js';

/** Case → soak server requests. */
export type SoakRequest = { id: number; op: 'listen'; keys: CurveKeys } | { id: number; op: 'sample' } | { id: number; op: 'close' };

/** One sample of the listener process, after garbage collection (bytes, counts). */
export interface SoakSample {
  rss: number;
  heapUsed: number;
  external: number;
  /** Requests answered so far. */
  served: number;
  /** Connections accepted and closed so far. */
  accepted: number;
  closed: number;
  /** Warning lines logged so far (throttled repeats count once). */
  warnings: number;
  cpuUs: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
let omq: OxenMQ | null = null;
const counts = { served: 0, accepted: 0, closed: 0, warnings: 0 };

async function handle(msg: SoakRequest): Promise<unknown> {
  switch (msg.op) {
    case 'listen': {
      omq = new OxenMQ({
        pubkey: msg.keys.serverPublic,
        privkey: msg.keys.serverSecret,
        logger: { warn: () => void counts.warnings++, error: () => void counts.warnings++ },
      });
      omq.addCategory('soak', AuthLevel.none).addRequestCommand('echo', (m) => {
        counts.served++;
        m.sendReply(...m.data);
      });
      omq.on('accept', () => void counts.accepted++);
      omq.on('close', () => void counts.closed++);
      const bound = omq.listenCurve('tcp://127.0.0.1:0');
      await omq.start();
      return bound;
    }
    case 'sample': {
      if (gc === undefined) throw new Error('soak server needs --expose-gc');
      gc();
      await new Promise((r) => setImmediate(r));
      gc();
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, ...counts, cpuUs: cpuUs() } satisfies SoakSample;
    }
    case 'close':
      await omq?.close(0);
      omq = null;
      return null;
  }
}

serveParent(handle, () => omq?.close(0) ?? Promise.resolve());
