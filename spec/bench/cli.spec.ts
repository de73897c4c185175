/**
 * Smoke test of the benchmark CLI: every available case runs end to end in tiny runs, prints the
 * libzmq perf-tool lines and the Markdown table, and --json parses with the documented keys.
 * It asserts no timing figures — a benchmark is not a test — only that the machinery works and
 * that bad usage exits 2.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// This file runs from dist/spec/bench/; the CLI is dist/bench/cli.js.
const CLI = fileURLToPath(new URL('../../bench/cli.js', import.meta.url));
const built = (rel: string) => existsSync(fileURLToPath(new URL(`../../${rel}`, import.meta.url)));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], timeoutMs = 25_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`oxenmq-bench ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function zeromqLoads(): Promise<boolean> {
  try {
    await import('zeromq');
    return true;
  } catch {
    return false;
  }
}

describe('bench/cli (oxenmq-bench)', function () {
  let haveZmq = false;
  const haveCurve = built('curve/index.js');
  const haveOmq = built('lib/oxenmq.js');

  before(async () => {
    haveZmq = await zeromqLoads();
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
      expect(run.stdout).to.include('| case | peer | figure | ratio vs zeromq | ratio vs net | spread |');
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
      if (haveCurve) expect(run.stdout).to.match(row('handshake', 'ours'));
      if (haveOmq) expect(run.stdout).to.match(row('reqrep', 'ours'));
      // An ours row compared with zeromq in the same run carries a ratio, not a dash.
      if (haveZmq) expect(run.stdout).to.match(/^\| thr [^|]*\| ours \| [^|]* \| \d+\.\d\d× \(/m);
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
      cases: { name: string; status: string; rows: { case: string; peer: string; runs: number[]; median: number; unit: string; ratios: object }[] }[];
    };
    before(async function () {
      this.timeout(30_000);
      run = await cli(['--smoke', '--json']);
      doc = JSON.parse(run.stdout) as typeof doc;
    });

    it('exits 0 and prints exactly one JSON document', () => {
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
        for (const r of c.rows) expect(r).to.include.keys('case', 'peer', 'runs', 'median', 'unit', 'ratios');
      }
    });

    it('runs every case that is available, and fails none', () => {
      const status = Object.fromEntries(doc.cases.map((c) => [c.name, c.status]));
      expect(Object.keys(status)).to.deep.equal(['thr', 'lat', 'rt', 'reqrep', 'handshake', 'crypto', 'batch']);
      for (const c of ['thr', 'lat', 'rt', 'crypto', 'batch']) expect(status[c], c).to.equal('ok');
      expect(status['handshake']).to.equal(haveCurve ? 'ok' : 'skipped');
      expect(status['reqrep']).to.equal(haveOmq ? 'ok' : 'skipped');
    });
  });

  describe('usage errors exit 2', () => {
    for (const args of [['--bogus'], ['--size', 'abc'], ['nosuchcase'], ['--peer', 'libzmq'], ['--connect', 'tcp://127.0.0.1:1']]) {
      it(args.join(' '), async () => {
        const r = await cli(args, 10_000);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include('oxenmq-bench:');
        expect(r.stdout).to.equal('');
      });
    }
  });
});
