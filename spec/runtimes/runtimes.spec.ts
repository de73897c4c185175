/**
 * The package under every runtime it promises: Node, Bun and Deno (both installed from npm as
 * dev dependencies) run the same scenario — plain and CURVE echo, ipc, a worker-thread batch job —
 * and must print the same result. A runtime that is missing fails this suite; it is never
 * skipped.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const scenario = fileURLToPath(new URL('./scenario.js', import.meta.url));
const jobs = new URL('../lib/fixtures/worker-jobs.js', import.meta.url).href;
const run = promisify(execFile);
const hex = (s: string) => Buffer.from(s).toString('hex');
const EXPECTED = { plain: [hex('plain'), '00ff'], curve: [hex('curve'), '00ff'], ipc: [hex('ipc'), '00ff'], worker: 168 };

const RUNTIMES: { name: string; command: () => string; args: (dir: string) => string[] }[] = [
  { name: 'Node', command: () => process.execPath, args: () => [] },
  { name: 'Bun', command: () => join(root, 'node_modules', '.bin', 'bun'), args: () => ['run'] },
  {
    name: 'Deno',
    command: () => join(root, 'node_modules', '.bin', 'deno'),
    // Deno's permissions: the network (tcp and the ipc socket), reading the package, and
    // writing only where the ipc socket lives.
    args: (dir) => ['run', '--quiet', '--no-prompt', '--allow-net', '--allow-read', `--allow-write=${dir}`],
  },
];

describe('runtimes: the same scenario under Node, Bun and Deno', function () {
  this.timeout(60_000);
  for (const rt of RUNTIMES) {
    it(`${rt.name}: plain and CURVE echo, ipc, and a batch with a worker job`, async () => {
      const command = rt.command();
      expect(existsSync(command), `${rt.name} is not installed (npm ci installs it as a dev dependency)`).to.equal(true);
      const dir = mkdtempSync(join(tmpdir(), `omq-${rt.name.toLowerCase()}-`));
      try {
        const { stdout } = await run(command, [...rt.args(dir), scenario, join(dir, 'omq.sock'), jobs], { cwd: root, timeout: 50_000 });
        expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).to.deep.equal(EXPECTED);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
