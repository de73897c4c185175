/**
 * The @example blocks in the JSDoc of ZmtpRouter and ZmtpDealer run as written: each is taken
 * from the source, transpiled, pointed at the built package entry and run to completion.
 */
import { expect } from 'chai';
import { transformSync } from 'esbuild';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const publicEntry = pathToFileURL(join(root, 'dist/zmtp/public.js')).href;

/** The ```ts blocks of a source file's JSDoc @example tags, comment markers stripped. */
function examples(file: string): string[] {
  const src = readFileSync(join(root, file), 'utf8');
  const blocks: string[] = [];
  for (const m of src.matchAll(/\* @example\n \* ```ts\n([\s\S]*?) \* ```/g)) {
    blocks.push(m[1]!.replace(/^ \*( |$)/gm, ''));
  }
  return blocks;
}

async function run(code: string): Promise<void> {
  const js = transformSync(code.replaceAll("'oxenmq-ts/zmtp'", JSON.stringify(publicEntry)), { loader: 'ts', format: 'esm' }).code;
  const file = join(mkdtempSync(join(tmpdir(), 'omq-example-')), 'example.mjs');
  writeFileSync(file, js);
  await import(pathToFileURL(file).href);
}

describe('zmtp: the documented examples', () => {
  for (const file of ['zmtp/router.ts', 'zmtp/dealer.ts']) {
    it(`the @example of ${file} runs to completion`, async () => {
      const blocks = examples(file);
      expect(blocks, 'one example').to.have.length(1);
      await run(blocks[0]!);
    });
  }
});
