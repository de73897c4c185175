/** Runs the @example blocks of the JSDoc in a source file, pointed at the built package entries. */
import { transformSync } from 'esbuild';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The ```ts blocks of a source file's JSDoc @example tags, comment markers stripped. */
export function examples(file: string): string[] {
  const src = readFileSync(join(root, file), 'utf8');
  const blocks: string[] = [];
  for (const m of src.matchAll(/\* @example\n \* ```ts\n([\s\S]*?) \* ```/g)) {
    blocks.push(m[1]!.replace(/^ \*( |$)/gm, ''));
  }
  return blocks;
}

/** Transpiles `code` with each package specifier (`'oxenmq-ts/zmtp'`) mapped to its built file (`dist/zmtp/public.js`), and runs it. */
export async function runExample(code: string, entries: Record<string, string>): Promise<void> {
  for (const [spec, file] of Object.entries(entries)) code = code.replaceAll(`'${spec}'`, JSON.stringify(pathToFileURL(join(root, file)).href));
  const js = transformSync(code, { loader: 'ts', format: 'esm' }).code;
  const file = join(mkdtempSync(join(tmpdir(), 'omq-example-')), 'example.mjs');
  writeFileSync(file, js);
  await import(pathToFileURL(file).href);
}
