/**
 * The documentation's examples run as written: each README block marked
 * `<!-- example: run -->` and the `@example` of the OxenMQ class are taken from the text, pointed
 * at the built package, and run in a child process to completion.
 */
import { expect } from 'chai';
import { transformSync } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const ENTRIES: Record<string, string> = {
  'oxenmq-ts': 'dist/lib/index.js',
  'oxenmq-ts/oxenc': 'dist/lib/oxenc/index.js',
  'oxenmq-ts/zmtp': 'dist/zmtp/public.js',
  'oxenmq-ts/curve': 'dist/curve/public.js',
};

function readmeExamples(): string[] {
  const text = readFileSync(join(root, 'README.md'), 'utf8');
  return [...text.matchAll(/<!-- example: run -->\n```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function jsdocExample(file: string): string {
  const m = /\* @example\n \* ```ts\n([\s\S]*?) \* ```/.exec(readFileSync(join(root, file), 'utf8'));
  if (!m) throw new Error(`no @example in ${file}`);
  return m[1]!.replace(/^ \*( |$)/gm, '');
}

/** Runs `code` as an ES module against the build; the OxenMQ example names its imports itself. */
async function runExample(code: string, preamble = ''): Promise<string> {
  let src = preamble + code;
  for (const [spec, file] of Object.entries(ENTRIES)) src = src.replaceAll(`'${spec}'`, JSON.stringify(pathToFileURL(join(root, file)).href));
  const dir = mkdtempSync(join(tmpdir(), 'omq-readme-'));
  try {
    const js = join(dir, 'example.mjs');
    writeFileSync(js, transformSync(src, { loader: 'ts', format: 'esm' }).code);
    const { stdout } = await run(process.execPath, ['--no-warnings', js], { timeout: 20_000 });
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('docs: the examples run', function () {
  this.timeout(30_000);

  it('the README has runnable examples, and each runs to completion', async () => {
    const blocks = readmeExamples();
    expect(blocks.length).to.be.at.least(1);
    const out = await runExample(blocks[0]!);
    expect(out.split('\n')).to.include.members(["[ 'hello', 'world' ]", 'FORBIDDEN']);
    for (const block of blocks.slice(1)) await runExample(block);
  });

  it('the @example of OxenMQ runs to completion', async () => {
    await runExample(jsdocExample('lib/oxenmq.ts'), "import { AuthLevel, OxenMQ } from 'oxenmq-ts';\n");
  });
});
