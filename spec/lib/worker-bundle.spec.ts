/**
 * Worker jobs from inside a bundle: esbuild puts the library into one file with no
 * worker-pool-entry.js beside it, and addWorkerJob still runs (the pool starts the same worker
 * code inline); the workerEntry option points at an entry file explicitly.
 */
import { expect } from 'chai';
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const jobs = new URL('./fixtures/worker-jobs.js', import.meta.url).href;
const run = promisify(execFile);

const PROGRAM = `
import { Batch, OxenMQ } from ${JSON.stringify(join(root, 'lib/index.ts'))};
const [jobs, entry] = process.argv.slice(2);
const omq = new OxenMQ({ logger: { warn() {}, error() {} }, workerEntry: entry || undefined });
await omq.start();
const batch = new Batch().addWorkerJob({ module: jobs, export: 'countPrimes', args: [1000], timeoutMs: 20000 });
const [result] = await new Promise((resolve) => { batch.completion(resolve); omq.batch(batch); });
console.log(JSON.stringify({ ok: result.ok, value: result.value, error: result.ok ? null : String(result.error) }));
await omq.close();
`;

describe('lib/jobs: worker jobs from a bundle', () => {
  let dir: string;
  let bundle: string;
  before(async function () {
    this.timeout(30_000);
    dir = mkdtempSync(join(tmpdir(), 'omq-bundle-'));
    writeFileSync(join(dir, 'main.mjs'), PROGRAM);
    bundle = join(dir, 'out', 'app.mjs');
    await build({ entryPoints: [join(dir, 'main.mjs')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'silent' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a worker job from a single-file esbuild bundle with no entry file beside it', async () => {
    const { stdout } = await run(process.execPath, [bundle, jobs], { timeout: 20_000 });
    expect(JSON.parse(stdout)).to.deep.equal({ ok: true, value: 168, error: null });
  });

  it('workerEntry names an entry file explicitly', async () => {
    const entry = join(root, 'dist/lib/jobs/worker-pool-entry.js');
    const { stdout } = await run(process.execPath, [bundle, jobs, entry], { timeout: 20_000 });
    expect(JSON.parse(stdout)).to.deep.equal({ ok: true, value: 168, error: null });
  });

  it('a workerEntry that does not exist fails the job with a typed error instead of hanging', async () => {
    const { stdout } = await run(process.execPath, [bundle, jobs, join(dir, 'nope.js')], { timeout: 20_000 });
    const out = JSON.parse(stdout) as { ok: boolean; error: string };
    expect(out.ok).to.equal(false);
    expect(out.error).to.match(/WorkerJobError|worker/);
  });
});
