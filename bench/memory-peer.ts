/**
 * Entry of a forked process of the `memory` case (dist/bench/memory-peer.js), always started with
 * --expose-gc so a measurement can collect garbage first. One process plays one role:
 *
 * - listener: an OxenMQ `listenCurve` (ours) or a zeromq.js Router with curveServer (native), and
 *   nothing else, so the difference of two `process.memoryUsage()` readings is what the idle
 *   connections cost;
 * - client: opens --count CURVE connections with raw ZmtpDealers (the cheapest client we have),
 *   at most `concurrency` handshakes at a time, each sending one `HI` and counting the answer.
 *
 * It answers the case over the IPC channel (PeerResponse shape) and exits when the parent
 * disconnects, so an interrupted CLI leaves nothing behind. It prints nothing: the parent's
 * stdout may be a JSON document.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import { type MechanismFactory } from '../zmtp/index.js';
import { ZmtpDealer } from '../zmtp/node.js';
import { curveClient } from '../curve/index.js';
import { OxenMQ } from '../lib/index.js';
import { hexToZ85 } from './keys.js';
import { loadZeromq } from './native.js';
import { serveParent } from './child.js';
import type { CurveKeys } from './protocol.js';
import { Stopwatch, cpuUs } from './stopwatch.js';

/** The listener implementations the case compares. */
export type MemoryImpl = 'oxenmq' | 'zeromq';

/** One `process.memoryUsage()` reading after garbage collection (bytes). */
export interface MemoryReading {
  heapUsed: number;
  heapTotal: number;
  /** C++ objects bound to JS objects, including `arrayBuffers` (Node counts them in both). */
  external: number;
  arrayBuffers: number;
  rss: number;
}

/** What the client's `open` reports. */
export interface OpenResult {
  /** Connections that answered (OxenMQ: HELLO to our HI; zeromq: the echoed HI). */
  up: number;
  /** Dealers that failed for good (the peer refused or broke the protocol). */
  failed: number;
  /** Answers other than the expected one. */
  bad: number;
  /** First connect to last answer, in ms. */
  elapsedMs: number;
  /** CPU time (user + system) this process spent meanwhile, in µs. */
  cpuUs: number;
  /** Whether the run gave up at its deadline. */
  timedOut: boolean;
}

/** Case → memory peer requests. */
export type MemoryRequest =
  | { id: number; op: 'listen'; impl: MemoryImpl; keys: CurveKeys }
  | { id: number; op: 'prepare'; keys: CurveKeys }
  | { id: number; op: 'open'; endpoint: string; count: number; concurrency: number; expect: string; timeoutMs: number }
  | { id: number; op: 'measure'; settleMs: number }
  | { id: number; op: 'snapshot'; path: string }
  | { id: number; op: 'cpu' }
  | { id: number; op: 'close' };

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Lets in-flight work finish, then collects twice (the second pass frees what the first one's
 * finalizers released, e.g. Buffer backing stores) and reads the process's memory.
 */
async function measure(settleMs: number): Promise<MemoryReading> {
  if (gc === undefined) throw new Error('memory peer needs --expose-gc');
  await sleep(settleMs);
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

/** Whatever this process holds open, closed by `close`. */
let closer: (() => Promise<void>) | null = null;

async function listen(impl: MemoryImpl, keys: CurveKeys): Promise<{ endpoint: string; before: MemoryReading }> {
  let endpoint: string;
  if (impl === 'oxenmq') {
    // Heartbeats off: an idle connection with a PING timer is not idle, and the target is about
    // what a connection costs at rest.
    const omq = new OxenMQ({ pubkey: keys.serverPublic, privkey: keys.serverSecret, connHeartbeat: 0 });
    const bound = omq.listenCurve('tcp://127.0.0.1:0');
    await omq.start();
    endpoint = await bound;
    closer = () => omq.close();
  } else {
    const z = await loadZeromq();
    if (!z.ok) throw new Error(`${z.reason}: ${z.detail}`);
    const router = new z.mod.Router({ linger: 0, curveServer: true, curveSecretKey: hexToZ85(keys.serverSecret) });
    await router.bind('tcp://127.0.0.1:*');
    endpoint = router.lastEndpoint!;
    // libzmq has no HI/HELLO: echo the client's message so the client sees its connection work.
    void (async () => {
      for await (const msg of router) await router.send(msg);
    })().catch(() => {
      // the receive loop ends with an error when the socket is closed under it
    });
    closer = async () => {
      router.close();
    };
  }
  return { endpoint, before: await measure(100) };
}

let mechanism: MechanismFactory | null = null;
const dealers: ZmtpDealer[] = [];

/** Imports the client's keys, then takes the client's baseline reading. */
async function prepare(keys: CurveKeys): Promise<MemoryReading> {
  // One factory for every dealer: the long-term keys are imported once, as a real client's
  // socket would; each connection then pays only for its own handshake state.
  mechanism = curveClient({ serverKey: keys.serverPublic, publicKey: keys.clientPublic, secretKey: keys.clientSecret });
  closer = async () => {
    // A socket destroyed at once is enough: nothing is queued on an idle connection.
    await Promise.all(dealers.map((d) => d.close(0)));
  };
  return measure(100);
}

/** Opens `count` connections, `concurrency` handshakes at a time, until all answered or the deadline. */
function open(endpoint: string, count: number, concurrency: number, expect: string, timeoutMs: number): Promise<OpenResult> {
  if (mechanism === null) throw new Error('prepare first');
  const factory = mechanism;
  const hi = Buffer.from('HI');
  let started = 0;
  let pending = 0;
  let up = 0;
  let failed = 0;
  let bad = 0;
  const sw = new Stopwatch();
  return new Promise<OpenResult>((resolve) => {
    let finished = false;
    const finish = (timedOut: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      const { elapsedNs, cpuUs } = sw.read();
      resolve({ up, failed, bad, elapsedMs: elapsedNs / 1e6, cpuUs, timedOut });
    };
    const deadline = setTimeout(() => finish(true), timeoutMs);
    const pump = () => {
      while (pending < concurrency && started < count) {
        started++;
        pending++;
        const d = new ZmtpDealer({ mechanism: factory, heartbeatInterval: 0 });
        let answered = false;
        d.onMessage = (frames) => {
          if (answered) return;
          answered = true;
          // Once answered, the dealer keeps nothing of this callback's work alive but itself.
          if (frames.length !== 1 || frames[0]!.toString() !== expect) bad++;
          up++;
          pending--;
          pump();
        };
        d.once('failed', () => {
          if (answered) return;
          answered = true;
          failed++;
          pending--;
          pump();
        });
        // Queued until the handshake completes; a dealer retries a refused TCP connect itself.
        d.send([hi]);
        d.connect(endpoint);
        dealers.push(d);
      }
      if (up + failed === count) finish(false);
    };
    pump();
  });
}

async function snapshot(path: string): Promise<string> {
  if (gc !== undefined) {
    gc();
    gc();
  }
  return v8.writeHeapSnapshot(path);
}

function handle(req: MemoryRequest): Promise<unknown> {
  switch (req.op) {
    case 'listen':
      return listen(req.impl, req.keys);
    case 'prepare':
      return prepare(req.keys);
    case 'open':
      return open(req.endpoint, req.count, req.concurrency, req.expect, req.timeoutMs);
    case 'measure':
      return measure(req.settleMs);
    case 'snapshot':
      return snapshot(req.path);
    case 'cpu':
      return Promise.resolve(cpuUs());
    case 'close': {
      const c = closer;
      closer = null;
      return c === null ? Promise.resolve() : c();
    }
  }
}

serveParent(handle, () => {
  const c = closer;
  closer = null;
  return c === null ? Promise.resolve() : c();
});
