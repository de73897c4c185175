/**
 * The bench's own correctness checks: a benchmark that loses or corrupts messages must fail its
 * case (exit 1), so the tagging, the sink's counting and the trial validation are tested directly.
 */
import { expect } from 'chai';
import { validate } from '../../bench/cases/socket.js';
import { CaseFailure } from '../../bench/cases/context.js';
import { END, checkPayload, makePayload } from '../../bench/payload.js';
import { Sink, parseAck } from '../../bench/transports/common.js';
import { UsageError, parseArgs } from '../../bench/options.js';
import { Report, fillRatios, skippedRow, type Row } from '../../bench/report.js';
import { fmt, slope } from '../../bench/stats.js';
import { memorySlopes, sampleInterval } from '../../bench/cases/soak.js';
import type { SoakSample } from '../../bench/soak-server.js';

describe('bench checks', () => {
  it('tags bodies so that a wrong sequence, size or either end is detected', () => {
    for (const size of [1, 3, 7, 8, 64, 4096]) {
      const b = makePayload(300, size);
      expect(checkPayload(b, 300, size), `size ${size}`).to.equal(true);
      expect(checkPayload(b, 301, size), `seq, size ${size}`).to.equal(false);
      expect(checkPayload(b.subarray(0, size - 1), 300, size)).to.equal(false);
      const head = Buffer.from(b);
      head[0]! ^= 1;
      expect(checkPayload(head, 300, size)).to.equal(false);
      const tail = Buffer.from(b);
      tail[size - 1]! ^= 0x80;
      expect(checkPayload(tail, 300, size)).to.equal(false);
    }
  });

  it('the sink counts good and bad messages and answers END with its report', () => {
    const sink = new Sink(64, false);
    expect(sink.onMessage([makePayload(0, 64)])).to.equal(null);
    expect(sink.onMessage([makePayload(5, 64)])).to.equal(null); // out of order
    expect(sink.onMessage([makePayload(2, 63)])).to.equal(null); // wrong size
    const ack = sink.onMessage([END, Buffer.alloc(0)]);
    const report = parseAck(ack!);
    expect(report).to.include({ received: 3, bytes: 64 + 64 + 63, bad: 2 });
  });

  it('fails a thr trial that lost or corrupted messages, passes a clean one', () => {
    const sink = { received: 10, bytes: 640, elapsedNs: 1000, bad: 0 };
    expect(() => validate('thr', 'ours', { sent: 10, completed: 10, elapsedNs: 1, cpuUs: 1, bad: 0, sink })).not.to.throw();
    expect(() => validate('thr', 'ours', { sent: 11, completed: 11, elapsedNs: 1, cpuUs: 1, bad: 0, sink })).to.throw(CaseFailure, /sent 11/);
    expect(() => validate('thr', 'ours', { sent: 10, completed: 10, elapsedNs: 1, cpuUs: 1, bad: 0, sink: { ...sink, bad: 1 } })).to.throw(CaseFailure);
    expect(() => validate('thr', 'ours', { sent: 10, completed: 10, elapsedNs: 1, cpuUs: 1, bad: 0 })).to.throw(CaseFailure);
  });

  it('fails a round-trip trial with missing or wrong replies', () => {
    const ok = { sent: 5, completed: 5, elapsedNs: 1, cpuUs: 1, bad: 0, rtt: { p50: 1, p99: 1, mean: 1 } };
    expect(() => validate('rt', 'zeromq', ok)).not.to.throw();
    expect(() => validate('rt', 'zeromq', { ...ok, completed: 4 })).to.throw(CaseFailure, /never completed/);
    expect(() => validate('lat', 'net', { ...ok, bad: 1 })).to.throw(CaseFailure, /corrupted/);
  });

  it('parses options and rejects bad ones with UsageError', () => {
    const o = parseArgs(['thr', '--size=128', '--peer', 'ours,net', '--runs', '5', '--one-process', 'thr']);
    expect(o).to.include({ size: 128, runs: 5, oneProcess: true, curve: false, json: false });
    expect(o.cases).to.deep.equal(['thr']);
    expect(o.peers).to.deep.equal(['ours', 'net']);
    expect([...o.given].sort()).to.deep.equal(['one-process', 'peer', 'runs', 'size']);
    expect(parseArgs(['--smoke'])).to.include({ durationMs: 50, runs: 1 });
    expect(parseArgs(['--smoke', '--duration', '0.2'])).to.include({ durationMs: 200, runs: 1 });
    expect(parseArgs(['-h']).help).to.equal(true);
    expect(parseArgs([]).clients).to.deep.equal(['raw', 'promise']);
    expect(parseArgs(['reqrep', '--client', 'promise']).clients).to.deep.equal(['promise']);
    expect(parseArgs(['--client=all']).clients).to.deep.equal(['raw', 'promise']);
    expect(parseArgs([]).transport).to.equal('tcp');
    expect(parseArgs(['rt', '--transport', 'ws']).transport).to.equal('ws');
    expect(parseArgs(['mesh'])).to.deep.include({ nodes: [100, 1000], meshPeers: 8, workers: 2 });
    expect(parseArgs(['mesh', '--nodes', '50,200', '--peers', '4', '--workers', '3'])).to.deep.include({ nodes: [50, 200], meshPeers: 4, workers: 3 });
    const bad = [
      ['--size', '0'],
      ['--size', '--curve'],
      ['--size='],
      ['--duration', '1', '--count', '5'],
      ['--bind', 'tcp://x:1', 'thr', 'lat'],
      ['--inflight', '5000'],
      ['--transport', 'udp'],
      ['--json=1'],
      ['-x'],
      ['--peer', 'all,ours'],
      ['mesh', '--nodes', '1'],
      ['mesh', '--nodes', '5', '--peers', '5'],
      ['thr', '--workers', '2'],
    ];
    for (const args of bad) expect(() => parseArgs(args), args.join(' ')).to.throw(UsageError);
    expect(() => parseArgs(['--bogus'])).to.throw(UsageError, /^unknown option --bogus$/);
  });

  it('formats figures with the prefix on the unit: GB/s not "k MB/s", ms above 1000 µs, KiB/conn', () => {
    expect(fmt(1.234e9, 'B/s')).to.equal('1.23 GB/s');
    expect(fmt(45_200_000, 'B/s')).to.equal('45.2 MB/s');
    expect(fmt(458_000, 'B/s')).to.equal('458 kB/s');
    expect(fmt(1_234_567, 'msg/s')).to.equal('1.23 M msg/s');
    expect(fmt(999.7, 'msg/s')).to.equal('1.00 k msg/s');
    expect(fmt(64.52, 'us', 'RTT p50')).to.equal('RTT p50 64.5 µs');
    expect(fmt(2166, 'us')).to.equal('2.17 ms');
    expect(fmt(3_500_000, 'us')).to.equal('3.50 s');
    expect(fmt(0.5, 'us')).to.equal('0.500 µs');
    expect(fmt(12_300, 'B/conn')).to.equal('12.0 KiB/conn');
    expect(fmt(-900, 'B/conn')).to.equal('-900 B/conn');
  });

  it('the table shows ratios against each named reference, and a skip row where a reference did not run', () => {
    const rows: Row[] = [
      {
        case: 'thr 64 B',
        peer: 'ours',
        runs: [200, 300],
        unit: 'msg/s',
        higherIsBetter: true,
        extra: [],
        ratios: {},
        cpu: { per: 'msg', client: [1, 2], server: [0.5, 0.5], scope: 'split' },
      },
      { case: 'thr 64 B', peer: 'net', runs: [400, 400], unit: 'msg/s', higherIsBetter: true, extra: [], ratios: {} },
      skippedRow('thr 64 B', 'zeromq', 'zeromq not installed'),
    ];
    fillRatios(rows, 'ours', ['zeromq', 'net']);
    expect(Object.keys(rows[0]!.ratios)).to.deep.equal(['net']);
    const report = new Report(false, 'node dist/bench/cli.js thr');
    report.cases.push({ name: 'thr', status: 'ok', rows });
    const table = report.table();
    expect(table).to.include('| thr 64 B | ours | 250 msg/s | 1.50 µs / 0.500 µs per msg | vs net 0.63× (0.50–0.75) | 200 msg/s – 300 msg/s |');
    expect(table).to.include('| thr 64 B | zeromq | skipped: zeromq not installed | — | — | — |');
    const doc = report.document({}) as { cases: { rows: { peer: string; median?: number; skipped?: string }[] }[] };
    expect(doc.cases[0]!.rows.map((r) => [r.peer, r.median ?? null, r.skipped ?? null])).to.deep.equal([
      ['ours', 250, null],
      ['net', 400, null],
      ['zeromq', null, 'zeromq not installed'],
    ]);
  });

  it('soak: the least-squares slope is exact on a line and flat on noise around a level', () => {
    expect(slope([0, 1, 2, 3], [5, 7, 9, 11])).to.equal(2);
    expect(slope([0, 1, 2, 3], [4, 6, 4, 6])).to.be.closeTo(0.4, 1e-12);
    expect(slope([1], [1])).to.be.NaN;
    expect(slope([2, 2], [1, 3])).to.be.NaN;
  });

  it('soak: samples about a dozen times a run, every 1–10 s, and leaves the first fifth out of the slopes', () => {
    expect([3, 60, 600, 6000].map(sampleInterval)).to.deep.equal([1, 5, 10, 10]);
    const MiB = 2 ** 20;
    const at = (t: number, rssMiB: number, heapMiB: number) => ({
      t,
      s: { rss: rssMiB * MiB, heapUsed: heapMiB * MiB, external: 0, served: 0, accepted: 0, closed: 0, warnings: 0, cpuUs: 0 } satisfies SoakSample,
    });
    // A warm-up jump in the first fifth, then RSS flat and heap +1 MiB per minute.
    const samples = [at(0, 10, 1), at(60, 50, 2), ...Array.from({ length: 8 }, (_, i) => at(120 + 60 * i, 80, 3 + i))];
    const sl = memorySlopes(samples);
    expect(sl.from).to.equal(120);
    expect(sl.rss).to.equal(0);
    expect(sl.heap).to.be.closeTo(1, 1e-12);
  });
});
