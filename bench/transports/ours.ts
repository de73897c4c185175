/**
 * Our wire layer as a bench peer: ZmtpDealer → ZmtpRouter, NULL or (with --curve) CURVE.
 * QUEUE_FULL is the engine's backpressure signal and nothing announces the drain yet, so senders
 * retry on setImmediate, keeping message order.
 */
import { performance } from 'node:perf_hooks';
import { type MechanismFactory, ZmtpError, ZmtpErrorCode, latin1Key } from '../../zmtp/index.js';
import { ZmtpDealer, ZmtpRouter } from '../../zmtp/node.js';
import { curveClient, curveServer } from '../../curve/index.js';
import { END, makePayload, checkPayload } from '../payload.js';
import type { ClientResult, ClientSpec, CurveKeys, ServeSpec, SinkReport } from '../protocol.js';
import { Stopwatch } from '../stopwatch.js';
import { Budget, RttRecorder, type RunningServer, Sink, parseAck, runConcurrent, withTimeout } from './common.js';

// Heartbeats off: a PING in the middle of a measurement is noise, and trials are short.
const BASE = { heartbeatInterval: 0, maxMessageSize: -1 } as const;

function serverMechanism(curve: CurveKeys | null): MechanismFactory | undefined {
  return curve === null ? undefined : curveServer({ publicKey: curve.serverPublic, secretKey: curve.serverSecret });
}

function clientMechanism(curve: CurveKeys | null): MechanismFactory | undefined {
  return curve === null ? undefined : curveClient({ serverKey: curve.serverPublic, publicKey: curve.clientPublic, secretKey: curve.clientSecret });
}

function isQueueFull(err: unknown): boolean {
  return err instanceof ZmtpError && err.code === ZmtpErrorCode.QUEUE_FULL;
}

/**
 * Per-route ordered sending for the echo server: a message that meets QUEUE_FULL waits in a
 * backlog, and later ones queue behind it so replies keep their order.
 */
class OrderedRouterSender {
  private readonly backlog = new Map<string, Uint8Array[][]>();
  constructor(private readonly router: ZmtpRouter) {}

  send(route: Uint8Array, frames: Uint8Array[]): void {
    const key = latin1Key(route);
    const waiting = this.backlog.get(key);
    if (waiting !== undefined) {
      waiting.push(frames);
      return;
    }
    try {
      this.router.send(route, frames);
    } catch (err) {
      if (!isQueueFull(err)) return; // peer gone: nothing to echo to
      this.backlog.set(key, [frames]);
      setImmediate(() => this.drain(route, key));
    }
  }

  private drain(route: Uint8Array, key: string): void {
    const waiting = this.backlog.get(key)!;
    let i = 0;
    try {
      for (; i < waiting.length; i++) this.router.send(route, waiting[i]!);
      this.backlog.delete(key);
    } catch (err) {
      if (!isQueueFull(err)) {
        this.backlog.delete(key);
        return;
      }
      waiting.splice(0, i);
      setImmediate(() => this.drain(route, key));
    }
  }
}

/** Listens as a ZmtpRouter that sinks (thr) or echoes (lat/rt/handshake). */
export async function serve(spec: ServeSpec): Promise<RunningServer> {
  const router = new ZmtpRouter({ ...BASE, mechanism: serverMechanism(spec.curve) });
  if (spec.mode === 'echo') {
    const sender = new OrderedRouterSender(router);
    router.onMessage = (frames, route) => sender.send(route, frames);
  } else {
    const sinks = new Map<string, Sink>();
    // The router hands every message of a connection the same route Buffer, so an identity check
    // skips the per-message latin1 key (which showed up as ~10% of the sink's CPU in a profile).
    let lastRoute: Uint8Array | null = null;
    let lastSink: Sink | null = null;
    router.onMessage = (frames, route) => {
      let sink: Sink;
      if (route === lastRoute && lastSink !== null) sink = lastSink;
      else {
        const key = latin1Key(route);
        sink = sinks.get(key) ?? new Sink(spec.size, spec.verbose === true);
        sinks.set(key, sink);
        lastRoute = route;
        lastSink = sink;
      }
      // Under Node the engine hands out Buffers (its types say Uint8Array).
      const ack = sink.onMessage(frames as Buffer[]);
      if (ack !== null) {
        sinks.delete(latin1Key(route));
        lastRoute = lastSink = null;
        router.send(route, ack);
      }
    };
    router.on('disconnect', (_peer, route) => {
      if (route === null) return;
      sinks.delete(latin1Key(route));
      if (route === lastRoute) lastRoute = lastSink = null;
    });
  }
  const endpoint = await router.bind(spec.endpoint);
  return { endpoint, close: () => router.close() };
}

/** Connects and resolves once the handshake is done; rejects on a failed attempt. */
function connected(dealer: ZmtpDealer, endpoint: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    dealer.once('connect', () => resolve());
    dealer.once('connect-failed', (err) => reject(err));
    dealer.connect(endpoint);
  });
}

async function thr(spec: ClientSpec): Promise<ClientResult> {
  const dealer = new ZmtpDealer({ ...BASE, mechanism: clientMechanism(spec.curve) });
  let bad = 0;
  const acked = new Promise<SinkReport>((resolve) => {
    dealer.onMessage = (frames) => {
      const report = parseAck(frames as Buffer[]);
      if (report === null) bad++;
      else resolve(report);
    };
  });
  try {
    await connected(dealer, spec.endpoint);
    const budget = new Budget(spec.durationMs, spec.count);
    const size = spec.size;
    let seq = 0;
    const sw = new Stopwatch();
    budget.start();
    await new Promise<void>((resolve, reject) => {
      const pump = () => {
        try {
          while (budget.moreCoarse(seq)) {
            dealer.send([makePayload(seq, size)]);
            seq++;
          }
          dealer.send([END, Buffer.alloc(0)]);
          resolve();
        } catch (err) {
          if (isQueueFull(err)) setImmediate(pump);
          else reject(err);
        }
      };
      pump();
    });
    const sink = await withTimeout(acked, 60_000, 'waiting for the sink to acknowledge');
    return { sent: seq, completed: seq, ...sw.read(), bad, sink };
  } finally {
    await dealer.close();
  }
}

/** How a round-trip client frames request `seq`, and which request a reply answers. */
export interface RoundTripCodec {
  request(seq: number): (Uint8Array | string)[];
  /**
   * The seq the reply `frames` answers, checked against what was sent, or -1 for a wrong reply.
   * `completed` counts the replies before this one: where replies keep the requests' order, it
   * is the seq this reply must answer.
   */
  reply(frames: Uint8Array[], completed: number): number;
}

// Send times by seq, in a ring larger than any --inflight (at most 1000): a reply that overtakes
// more than this many requests would lose its send time, so that is counted as a wrong reply.
const RING = 4096;

/**
 * Keeps `spec.inflight` requests outstanding on one DEALER, framed by `codec`, until the budget
 * is spent; one warm-up round trip first, so the clock starts on a connection that is up.
 */
export async function dealerRoundTrips(spec: ClientSpec, codec: RoundTripCodec): Promise<ClientResult> {
  const dealer = new ZmtpDealer({ ...BASE, mechanism: clientMechanism(spec.curve) });
  try {
    await connected(dealer, spec.endpoint);
    const budget = new Budget(spec.durationMs, spec.count);
    const rec = new RttRecorder();
    const sentAt = new Float64Array(RING);
    const seqAt = new Int32Array(RING).fill(-1);
    let sent = 0;
    let completed = 0;
    let bad = 0;
    let sw: Stopwatch | undefined;
    return await new Promise<ClientResult>((resolve, reject) => {
      const sendOne = () => {
        sentAt[sent % RING] = performance.now();
        seqAt[sent % RING] = sent;
        dealer.send(codec.request(sent));
        sent++;
      };
      let warm = true;
      dealer.onMessage = (frames) => {
        try {
          if (warm) {
            // The warm-up round trip is done: start the clock with `inflight` outstanding.
            warm = false;
            sw = new Stopwatch();
            budget.start();
            for (let i = 0; i < spec.inflight && budget.more(sent); i++) sendOne();
            if (sent === 0) resolve({ sent, completed, elapsedNs: 0, cpuUs: 0, bad });
            return;
          }
          const now = performance.now();
          const seq = codec.reply(frames, completed);
          if (seq < 0 || seqAt[seq % RING] !== seq) bad++;
          else {
            rec.record((now - sentAt[seq % RING]!) * 1e6);
            seqAt[seq % RING] = -1;
          }
          completed++;
          if (budget.more(sent)) sendOne();
          else if (completed === sent) {
            resolve({ sent, completed, ...sw!.read(now), bad, rtt: rec.summary() });
          }
        } catch (err) {
          reject(err);
        }
      };
      dealer.send(codec.request(0));
    });
  } finally {
    await dealer.close();
  }
}

/** The bare echo: a request is one tagged body, and the router sends it back as it came. */
function rt(spec: ClientSpec): Promise<ClientResult> {
  return dealerRoundTrips(spec, {
    request: (seq) => [makePayload(seq, spec.size)],
    // One connection keeps order, so the reply must be the oldest outstanding message.
    reply: (frames, completed) => (frames.length === 1 && checkPayload(frames[0]!, completed, spec.size) ? completed : -1),
  });
}

async function handshake(spec: ClientSpec): Promise<ClientResult> {
  const mechanism = clientMechanism(spec.curve);
  const one = async () => {
    const dealer = new ZmtpDealer({ ...BASE, mechanism });
    try {
      // A full connection = handshake plus one echoed message, the same work the zeromq peer does.
      const echoed = new Promise<void>((resolve, reject) => {
        dealer.onMessage = () => resolve();
        dealer.once('connect-failed', (err) => reject(err));
        dealer.once('failed', (err) => reject(err));
      });
      dealer.connect(spec.endpoint);
      dealer.send(['hs']);
      await withTimeout(echoed, 10_000, 'a CURVE connection');
    } finally {
      await dealer.close();
    }
  };
  const r = await runConcurrent(new Budget(spec.durationMs, spec.count), spec.inflight, one);
  return { sent: r.started, completed: r.completed, elapsedNs: r.elapsedNs, cpuUs: r.cpuUs, bad: 0 };
}

/** Runs one client trial. */
export function run(spec: ClientSpec): Promise<ClientResult> {
  switch (spec.mode) {
    case 'thr':
      return thr(spec);
    case 'rt':
      return rt(spec);
    case 'handshake':
      return handshake(spec);
  }
}
