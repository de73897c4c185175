/**
 * Native libzmq through zeromq.js 6 as the comparison peer: Dealer → Router, the same pattern,
 * sizes and checks as ours. zeromq.js is promise-per-message by design, so these loops await
 * every send and receive — that is how the library is used, and part of what is measured.
 */
import { performance } from 'node:perf_hooks';
import { hexToZ85 } from '../keys.js';
import { type Zmq, loadZeromq } from '../native.js';
import { END, checkPayload, makePayload } from '../payload.js';
import type { ClientResult, ClientSpec, CurveKeys, ServeSpec } from '../protocol.js';
import { Stopwatch } from '../stopwatch.js';
import { Budget, RttRecorder, type RunningServer, Sink, parseAck, runConcurrent } from './common.js';

async function zmq(): Promise<Zmq> {
  const z = await loadZeromq();
  if (!z.ok) throw new Error(`${z.reason}: ${z.detail}`);
  return z.mod;
}

function clientCurve(curve: CurveKeys | null) {
  if (curve === null) return {};
  return {
    curveServerKey: hexToZ85(curve.serverPublic),
    curvePublicKey: hexToZ85(curve.clientPublic),
    curveSecretKey: hexToZ85(curve.clientSecret),
  };
}

/** Listens as a zmq.Router that sinks (thr) or echoes (lat/rt/handshake). */
export async function serve(spec: ServeSpec): Promise<RunningServer> {
  const z = await zmq();
  const router = new z.Router({
    linger: 0,
    // Echo replies for `inflight` outstanding requests per client must never hit the HWM.
    sendHighWaterMark: 10_000,
    ...(spec.curve
      ? { curveServer: true, curvePublicKey: hexToZ85(spec.curve.serverPublic), curveSecretKey: hexToZ85(spec.curve.serverSecret) }
      : {}),
  });
  // libzmq spells "any port" as `*`.
  await router.bind(spec.endpoint.replace(/:0$/, ':*'));
  const endpoint = router.lastEndpoint!;
  const sinks = new Map<string, Sink>();
  const loop = (async () => {
    for await (const [route, ...frames] of router) {
      if (spec.mode === 'echo') {
        await router.send([route!, ...frames]);
        continue;
      }
      const key = route!.toString('latin1');
      let sink = sinks.get(key);
      if (sink === undefined) sinks.set(key, (sink = new Sink(spec.size, spec.verbose === true)));
      const ack = sink.onMessage(frames);
      if (ack !== null) {
        sinks.delete(key);
        await router.send([route!, ...ack]);
      }
    }
  })().catch(() => {
    // The loop ends with an error when the socket is closed under it.
  });
  return {
    endpoint,
    close: async () => {
      router.close();
      await loop;
    },
  };
}

function dealer(z: Zmq, curve: CurveKeys | null) {
  // receiveTimeout turns a wedged peer into an error instead of a hang.
  return new z.Dealer({ linger: 0, receiveTimeout: 60_000, ...clientCurve(curve) });
}

async function thr(spec: ClientSpec): Promise<ClientResult> {
  const z = await zmq();
  const d = dealer(z, spec.curve);
  try {
    d.connect(spec.endpoint);
    const budget = new Budget(spec.durationMs, spec.count);
    let seq = 0;
    const sw = new Stopwatch();
    budget.start();
    while (budget.moreCoarse(seq)) {
      await d.send(makePayload(seq, spec.size));
      seq++;
    }
    await d.send([END, Buffer.alloc(0)]);
    const sink = parseAck(await d.receive());
    if (sink === null) throw new Error('the sink answered END with something other than ACK');
    return { sent: seq, completed: seq, ...sw.read(), bad: 0, sink };
  } finally {
    d.close();
  }
}

async function rt(spec: ClientSpec): Promise<ClientResult> {
  const z = await zmq();
  const d = dealer(z, spec.curve);
  try {
    d.connect(spec.endpoint);
    await d.send('warm-up');
    await d.receive();
    const { size, inflight } = spec;
    const budget = new Budget(spec.durationMs, spec.count);
    const rec = new RttRecorder();
    const sentAt = new Float64Array(inflight);
    let sent = 0;
    let completed = 0;
    let bad = 0;
    const sw = new Stopwatch();
    let end = performance.now();
    budget.start();
    for (let i = 0; i < inflight && budget.more(sent); i++) {
      sentAt[sent % inflight] = performance.now();
      await d.send(makePayload(sent, size));
      sent++;
    }
    while (completed < sent) {
      const frames = await d.receive();
      end = performance.now();
      if (frames.length !== 1 || !checkPayload(frames[0]!, completed, size)) bad++;
      rec.record((end - sentAt[completed % inflight]!) * 1e6);
      completed++;
      if (budget.more(sent)) {
        sentAt[sent % inflight] = performance.now();
        await d.send(makePayload(sent, size));
        sent++;
      }
    }
    return { sent, completed, ...sw.read(end), bad, rtt: rec.summary() };
  } finally {
    d.close();
  }
}

async function handshake(spec: ClientSpec): Promise<ClientResult> {
  const z = await zmq();
  const one = async () => {
    const d = new z.Dealer({ linger: 0, receiveTimeout: 10_000, ...clientCurve(spec.curve) });
    try {
      d.connect(spec.endpoint);
      await d.send('hs');
      await d.receive();
    } finally {
      d.close();
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
