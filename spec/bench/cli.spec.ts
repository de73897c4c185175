/**
 * Smoke test of the benchmark CLI: every available case runs end to end in tiny runs, prints the
 * libzmq perf-tool lines and the Markdown table, and --json parses with the documented keys.
 * It asserts no timing figures — a benchmark is not a test — only that the machinery works and
 * that bad usage exits 2.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// This file runs from dist/spec/bench/; the CLI is dist/bench/cli.js, the package root above dist/.
const CLI = fileURLToPath(new URL('../../bench/cli.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HIDE_NATIVE = new URL('./hide-native.js', import.meta.url).href;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], timeoutMs = 25_000): Promise<Run> {
  return spawnRun(process.execPath, [CLI, ...args], timeoutMs);
}

function spawnRun(command: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Whether an optional reference loads here (then its rows have figures, else a skip line). */
async function loads(name: 'zeromq' | 'sodium-native'): Promise<boolean> {
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}

describe('bench/cli (oxenmq-bench)', function () {
  let haveZmq = false;
  let haveSodiumNative = false;

  before(async () => {
    haveZmq = await loads('zeromq');
    haveSodiumNative = await loads('sodium-native');
  });

  describe('--smoke (text)', () => {
    let run: Run;
    before(async function () {
      this.timeout(30_000);
      run = await cli(['--smoke']);
    });

    it('exits 0 with nothing on stderr', () => {
      expect(run.code, run.stderr + run.stdout).to.equal(0);
      expect(run.stderr).to.equal('');
    });

    it('prints libzmq perf-tool lines', () => {
      for (const line of ['message size: 64 [B]', 'message count: ', '[msg/s]', '[Mb/s]', 'roundtrip count: ', 'average latency: ']) {
        expect(run.stdout).to.include(line);
      }
      expect(run.stdout).to.match(/^mean throughput: \d+ \[msg\/s\]$/m);
      expect(run.stdout).to.match(/^mean throughput: [\d.]+ \[Mb\/s\]$/m);
      expect(run.stdout).to.match(/^average latency: [\d.]+ \[us\]$/m);
    });

    it('ends with the command, the date and the Markdown table', () => {
      expect(run.stdout).to.include('$ node dist/bench/cli.js --smoke');
      expect(run.stdout).to.match(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
      expect(run.stdout).to.include('| case | peer | figure | CPU client / server | ratio (this ÷ reference) | spread |');
    });

    it('labels round-trip figures as RTT and scales units (µs/ms, kB/s–GB/s), never "k MB/s"', () => {
      expect(run.stdout).to.match(/^\| lat 64 B \| ours \| RTT p50 [\d.]+ (µs|ms) · RTT p99 [\d.]+ (µs|ms) \|/m);
      expect(run.stdout).to.match(/^\| rt 64 B ×64 \| ours \| [\d.]+ k? ?rt\/s · RTT p50 [\d.]+ (µs|ms) · RTT p99 /m);
      expect(run.stdout).to.match(/^\| thr 64 B \| ours \| [\d.]+ [kM]? ?msg\/s · [\d.]+ [kMG]?B\/s \|/m);
      const table = run.stdout.split('\n').filter((l) => l.startsWith('| '));
      for (const line of table) {
        // A prefix on a prefixed unit ("1.23 k MB/s") or four digits before a unit means unscaled.
        expect(line).not.to.match(/ [kMG] [kMG]?B\/|(?<![\d.])\d{4,}(\.\d+)? [kMG]? ?(µs|ms|B\/s|msg\/s|rt\/s|req\/s|ops\/s)/);
      }
    });

    it('prints the CPU per item on every row: client / server for the socket cases, one figure in-process', () => {
      const rows = run.stdout.split('\n').filter((l) => /^\| (thr|lat|rt|reqrep|handshake|crypto|batch)\b/.test(l));
      expect(rows.length).to.be.greaterThan(20);
      const t = '[\\d.]+ (µs|ms)';
      for (const line of rows) {
        const cpu = line.split(' | ')[3]!;
        if (/^\| (crypto|batch)/.test(line)) expect(cpu, line).to.match(new RegExp(`^${t} per (box|job)$`));
        else expect(cpu, line).to.match(new RegExp(`^${t} / ${t} per (msg|rt|req|conn)$`));
      }
      expect(run.stdout).to.match(/^cpu per msg: client [\d.]+ \[us\], server [\d.]+ \[us\]$/m);
    });

    it('compares every crypto row with native libsodium (or says it is unavailable) and its wasm build', () => {
      for (const op of ['seal', 'open']) {
        for (const size of ['64 B', '4 KiB', '64 KiB']) {
          const c = `crypto ${op} ${size}`;
          const refs = haveSodiumNative ? 'vs sodium-native \\d+\\.\\d\\d× \\([^|]* · vs libsodium-wrappers' : 'vs libsodium-wrappers';
          expect(run.stdout).to.match(new RegExp(`^\\| ${c} \\| ours \\| [^|]* \\| [^|]* \\| ${refs} \\d+\\.\\d\\d× \\(`, 'm'));
          expect(run.stdout).to.match(new RegExp(`^\\| ${c} \\| libsodium-wrappers \\| [\\d.]+ [kM]? ?ops/s · `, 'm'));
          const native = haveSodiumNative ? '[\\d.]+ [kM]? ?ops/s · ' : 'skipped: sodium-native unavailable \\|';
          expect(run.stdout).to.match(new RegExp(`^\\| ${c} \\| sodium-native \\| ${native}`, 'm'));
        }
      }
    });

    it('runs reqrep with the raw and the promise client, and gives the raw row its ratio to the promise row', () => {
      for (const n of [1, 64]) {
        const c = `reqrep 64 B ×${n}`;
        const refs = `vs ours \\(promise client\\) \\d+\\.\\d\\d× \\([^|]*${haveZmq ? ' · vs zeromq \\(bare echo\\) ' : ''}`;
        expect(run.stdout).to.match(new RegExp(`^\\| ${c} \\| ours \\(raw client\\) \\| [\\d.]+ [kM]? ?req/s · RTT p50 [^|]* \\| [^|]* per req \\| ${refs}`, 'm'));
        expect(run.stdout).to.match(new RegExp(`^\\| ${c} \\| ours \\(promise client\\) \\| [\\d.]+ [kM]? ?req/s · RTT p50 [^|]* \\| [^|]* per req \\|`, 'm'));
      }
      expect(run.stdout).to.include('reqrep 64 B ×64 · ours (promise client) · median of 1');
    });

    it('has a table row for every available case and peer', () => {
      const row = (c: string, peer: string) => new RegExp(`^\\| ${c}[^|]* \\| ${peer}[^|]* \\|`, 'm');
      for (const c of ['thr', 'lat', 'rt']) {
        expect(run.stdout).to.match(row(c, 'ours'));
        expect(run.stdout).to.match(row(c, 'net'));
        if (haveZmq) expect(run.stdout).to.match(row(c, 'zeromq'));
      }
      expect(run.stdout).to.match(row('crypto seal', 'ours'));
      expect(run.stdout).to.match(row('crypto open', 'ours'));
      expect(run.stdout).to.match(row('batch', 'worker pool'));
      expect(run.stdout).to.match(row('handshake', 'ours'));
      expect(run.stdout).to.match(row('reqrep', 'ours \\(raw client\\)'));
      expect(run.stdout).to.match(row('reqrep', 'ours \\(promise client\\)'));
      // An ours row compared with zeromq in the same run carries a ratio, not a dash.
      if (haveZmq) expect(run.stdout).to.match(/^\| thr [^|]*\| ours \| [^|]* \| [^|]* \| vs zeromq \d+\.\d\d× \([^|]* · vs net \d+\.\d\d× \(/m);
    });
  });

  describe('--smoke --json', () => {
    let run: Run;
    let doc: {
      tool: string;
      command: string;
      date: string;
      environment: Record<string, unknown>;
      options: Record<string, unknown>;
      ok: boolean;
      cases: {
        name: string;
        status: string;
        rows: {
          case: string;
          peer: string;
          runs: number[];
          median: number;
          unit: string;
          ratios: object;
          cpu: { scope: string; client: number[]; clientMedian: number; serverMedian: number | null };
        }[];
      }[];
    };
    before(async function () {
      this.timeout(30_000);
      run = await cli(['--smoke', '--json']);
      doc = JSON.parse(run.stdout) as typeof doc;
    });

    it('exits 0, and stdout is exactly one JSON document (it parsed)', () => {
      expect(run.code, run.stderr).to.equal(0);
      expect(doc).to.be.an('object');
    });

    it('has the documented keys', () => {
      expect(doc).to.include.keys('tool', 'command', 'date', 'environment', 'options', 'ok', 'cases');
      expect(doc.tool).to.equal('oxenmq-bench');
      expect(doc.ok).to.equal(true);
      expect(Number.isNaN(Date.parse(doc.date))).to.equal(false);
      for (const c of doc.cases) {
        expect(c).to.include.keys('name', 'status', 'rows');
        for (const r of c.rows) {
          expect(r).to.include.keys('case', 'peer', 'runs', 'median', 'unit', 'ratios', 'cpu');
          expect(r.cpu.client).to.have.length(r.runs.length);
          expect(r.cpu.clientMedian).to.be.a('number').above(0);
          if (r.cpu.scope === 'split') expect(r.cpu.serverMedian).to.be.a('number').above(0);
          else expect(r.cpu.scope).to.equal('self');
        }
      }
    });

    it('runs every case that is available, and fails none', () => {
      const status = Object.fromEntries(doc.cases.map((c) => [c.name, c.status]));
      expect(Object.keys(status)).to.deep.equal(['thr', 'lat', 'rt', 'reqrep', 'handshake', 'crypto', 'batch']);
      for (const c of Object.keys(status)) expect(status[c], c).to.equal('ok');
    });
  });

  it('npm run -s bench -- … --json prints only the JSON document on stdout', async function () {
    // The README's form: -s keeps npm's own banner (and the prebench build's) off stdout.
    this.timeout(90_000);
    const r = await spawnRun('npm', ['run', '-s', 'bench', '--', 'thr', '--smoke', '--json', '--peer', 'ours'], 85_000);
    expect(r.code, r.stderr).to.equal(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; command: string; cases: { name: string; status: string }[] };
    expect(doc.ok).to.equal(true);
    expect(doc.command).to.equal('npm run bench -- thr --smoke --json --peer ours');
    expect(doc.cases.map((c) => [c.name, c.status])).to.deep.equal([['thr', 'ok']]);
  });

  it('reqrep --curve runs both clients over CURVE; --client promise runs the promise client alone', async function () {
    this.timeout(60_000);
    const both = await cli(['reqrep', '--smoke', '--curve', '--peer', 'ours', '--inflight', '16'], 30_000);
    expect(both.code, both.stderr).to.equal(0);
    for (const c of ['raw', 'promise']) expect(both.stdout).to.match(new RegExp(`^\\| reqrep 64 B CURVE ×16 \\| ours \\(${c} client\\) \\| [\\d.]+ [kM]? ?req/s`, 'm'));
    const promise = await cli(['reqrep', '--smoke', '--client', 'promise', '--peer', 'ours', '--json'], 30_000);
    expect(promise.code, promise.stderr).to.equal(0);
    const doc = JSON.parse(promise.stdout) as { cases: { rows: { case: string; peer: string }[] }[] };
    expect(doc.cases[0]!.rows.map((r) => `${r.case} | ${r.peer}`)).to.deep.equal([
      'reqrep 64 B ×1 | ours (promise client)',
      'reqrep 64 B ×64 | ours (promise client)',
    ]);
  });

  it('--transport ws runs rt and reqrep over ZWS 2.0 with CURVE, ours against zeromq, and skips net', async function () {
    this.timeout(60_000);
    const r = await cli(['rt', 'reqrep', '--smoke', '--transport', 'ws', '--curve', '--client', 'raw', '--inflight', '8', '--one-process'], 40_000);
    expect(r.code, r.stderr).to.equal(0);
    for (const peer of ['ours', 'zeromq']) expect(r.stdout).to.match(new RegExp(`^\\| rt 64 B ×8 CURVE ws \\| ${peer} \\| [\\d.]+ [kM]? ?rt/s`, 'm'));
    expect(r.stdout).to.match(/^\| rt 64 B ×8 CURVE ws \| net[^|]*\| skipped/m);
    expect(r.stdout).to.match(/^\| reqrep 64 B CURVE ws ×8 \| ours \(raw client\) \| [\d.]+ [kM]? ?req\/s/m);
  });

  describe('without the native references installed', () => {
    let run: Run;
    let doc: { ok: boolean; cases: { name: string; status: string; rows: { case: string; peer: string; skipped?: string }[] }[] };
    before(async function () {
      this.timeout(30_000);
      run = await spawnRun(process.execPath, ['--import', HIDE_NATIVE, CLI, 'thr', 'crypto', '--smoke', '--size', '64', '--json'], 25_000);
      doc = JSON.parse(run.stdout) as typeof doc;
    });

    it('still succeeds, with only JSON on stdout and what is missing on stderr', () => {
      expect(run.code, run.stderr).to.equal(0);
      expect(doc.ok).to.equal(true);
      expect(run.stderr).to.include('oxenmq-bench: zeromq not installed');
      expect(run.stderr).to.include('oxenmq-bench: libsodium-wrappers not installed');
      expect(run.stderr).to.include('oxenmq-bench: sodium-native unavailable');
    });

    it('shows each missing reference as a skip row beside the figures that did run', () => {
      const rows = doc.cases.flatMap((c) => c.rows.map((r) => [r.case, r.peer, r.skipped ?? 'ran']));
      expect(rows).to.deep.include.members([
        ['thr 64 B', 'ours', 'ran'],
        ['thr 64 B', 'net', 'ran'],
        ['thr 64 B', 'zeromq', 'zeromq not installed'],
        ['crypto seal 64 B', 'ours', 'ran'],
        ['crypto seal 64 B', 'sodium-native', 'sodium-native unavailable'],
        ['crypto seal 64 B', 'libsodium-wrappers', 'libsodium-wrappers not installed'],
        ['crypto open 64 B', 'sodium-native', 'sodium-native unavailable'],
        ['crypto open 64 B', 'libsodium-wrappers', 'libsodium-wrappers not installed'],
      ]);
    });
  });

  // memory is not in the default suite (10,000 connections take too long), so it gets its own
  // smoke run: a small --count, both listeners when zeromq is installed.
  describe('memory --smoke', () => {
    let run: Run;
    before(async function () {
      this.timeout(60_000);
      run = await cli(['memory', '--smoke', '--count', '150'], 55_000);
    });

    it('exits 0 with nothing on stderr', () => {
      expect(run.code, run.stderr + run.stdout).to.equal(0);
      expect(run.stderr).to.equal('');
    });

    it('prints a perf-tool style block per listener', () => {
      expect(run.stdout).to.include('memory · ours (OxenMQ listenCurve) · 150 idle CURVE connections');
      expect(run.stdout).to.include('connection count: 150');
      for (const what of ['heap', 'external', 'rss']) expect(run.stdout).to.match(new RegExp(`^listener ${what} per connection: -?\\d+ \\[B\\]`, 'm'));
      expect(run.stdout).to.match(/^connect rate: [\d.]+ \[conn\/s\]$/m);
      if (haveZmq) expect(run.stdout).to.include('memory · zeromq (libzmq Router, curveServer) · 150 idle CURVE connections');
    });

    it('has per-connection table rows for the listener and the client', () => {
      const row = (c: string, peer: string) => new RegExp(`^\\| memory ×150 ${c} \\| ${peer} \\| -?[\\d.]+ (Ki|Mi)?B/conn \\|`, 'm');
      for (const c of ['listener heap', 'listener external', 'listener RSS']) expect(run.stdout).to.match(row(c, 'ours'));
      for (const c of ['client heap', 'client external', 'client RSS']) expect(run.stdout).to.match(row(c, 'ours \\(ZmtpDealer\\)'));
      expect(run.stdout).to.match(/^\| memory ×150 connect ×200 \| ours \| [\d.]+ k? ?conn\/s \| [\d.]+ (µs|ms) \/ [\d.]+ (µs|ms) per conn \|/m);
      if (haveZmq) {
        expect(run.stdout).to.match(row('listener RSS', 'zeromq'));
        // ours is compared with zeromq's RSS in the same run: a ratio, not a dash.
        expect(run.stdout).to.match(/^\| memory ×150 listener RSS \| ours \| [^|]* \| — \| vs zeromq -?\d+\.\d\d× \(/m);
      }
    });
  });

  // soak runs for --seconds and is not in the default suite either: one short smoke run.
  describe('soak --smoke', () => {
    let run: Run;
    before(async function () {
      this.timeout(60_000);
      run = await cli(['soak', '--smoke'], 55_000);
    });

    it('exits 0, samples the listener as it goes, and ends with the slopes and table rows', () => {
      expect(run.code, run.stderr + run.stdout).to.equal(0);
      expect(run.stderr).to.equal('');
      const samples = run.stdout.split('\n').filter((l) => /^soak t= *\d+ s {2}rss [\d.]+ MiB {2}heap [\d.]+ MiB/.test(l));
      expect(samples.length).to.be.at.least(3); // t=0 and one a second for --smoke's 3 s
      expect(run.stdout).to.include('soak · OxenMQ listenCurve · 3 s · 4×16 in flight, 4 churning, 1 slow consumer');
      expect(run.stdout).to.match(/^listener rss: [\d.]+ → [\d.]+ \[MiB\], slope -?[\d.]+ \[MiB\/min\]/m);
      expect(run.stdout).to.match(/^listener heap: [\d.]+ → [\d.]+ \[MiB\], slope -?[\d.]+ \[MiB\/min\]/m);
      expect(run.stdout).to.match(/^requests completed: [1-9]\d* \(churned connections: [1-9]\d*\)$/m);
      for (const c of ['requests', 'listener RSS slope', 'listener heap slope']) expect(run.stdout).to.match(new RegExp(`^\\| soak 3 s ${c} \\| ours \\|`, 'm'));
    });
  });

  describe('memory --heap-snapshot', () => {
    let run: Run;
    let dir: string;
    before(async function () {
      this.timeout(60_000);
      dir = mkdtempSync(path.join(os.tmpdir(), 'oxenmq-bench-'));
      run = await cli(['memory', '--smoke', '--count', '50', '--peer', 'ours', '--heap-snapshot', dir], 55_000);
    });

    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('writes both snapshots and prints their difference by constructor', () => {
      expect(run.code, run.stderr + run.stdout).to.equal(0);
      expect(readdirSync(dir).sort()).to.deep.equal(['memory-oxenmq-after.heapsnapshot', 'memory-oxenmq-before.heapsnapshot']);
      expect(run.stdout).to.include('listener heap snapshot difference per connection (shallow sizes):');
      expect(run.stdout).to.match(/^ +[\d.]+ +[\d.]+ +ZmtpConnection \(object\)$/m);
      expect(run.stdout).to.include('total shallow heap delta per connection');
    });
  });

  // mesh is opt-in too: a few service nodes in two processes that reach each other by pubkey.
  describe('mesh --smoke', () => {
    let run: Run;
    before(async function () {
      this.timeout(60_000);
      run = await cli(['mesh', '--smoke'], 55_000);
    });

    it('exits 0 with nothing on stderr', () => {
      expect(run.code, run.stderr + run.stdout).to.equal(0);
      expect(run.stderr).to.equal('');
    });

    it('prints the mesh block and its set-up, memory and traffic rows', () => {
      expect(run.stdout).to.include('mesh · 6 service nodes × 2 peers · 2 processes · CURVE');
      expect(run.stdout).to.match(/^connection setup: \d+ \[ms\] for 12 pairs/m);
      expect(run.stdout).to.match(/^requests: [1-9]\d* \(0 failed\), commands: [1-9]\d*/m);
      expect(run.stdout).to.match(/^\| mesh ×6 K=2 setup \| ours \| [\d.]+ (µs|ms|s) · 12 pairs \|/m);
      expect(run.stdout).to.match(/^\| mesh ×6 K=2 memory \| ours \| RSS -?[\d.]+ (Ki|Mi)?B\/node/m);
      expect(run.stdout).to.match(/^\| mesh ×6 K=2 traffic \| ours \| [\d.]+ k? ?msg\/s · RTT p50 /m);
    });
  });

  it('--help lists memory as an opt-in case', async () => {
    const r = await cli(['--help'], 10_000);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^ {2}memory {5}/m);
    expect(r.stdout).to.include('npm run bench -- memory');
  });

  describe('usage errors exit 2', () => {
    for (const args of [['--bogus'], ['--size', 'abc'], ['nosuchcase'], ['--peer', 'libzmq'], ['reqrep', '--client', 'callback'], ['thr', '--client', 'raw'], ['--connect', 'tcp://127.0.0.1:1'], ['--heap-snapshot', '/tmp/x'], ['memory', '--count', '0'], ['mesh', '--nodes', '8', '--peers', '8'], ['thr', '--nodes', '10'], ['--seconds', '5'], ['soak', '--seconds', '0']]) {
      it(args.join(' '), async () => {
        const r = await cli(args, 10_000);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include('oxenmq-bench:');
        expect(r.stdout).to.equal('');
      });
    }
  });
});
