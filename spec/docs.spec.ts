/**
 * Every export of every public entry point is documented: the declarations users' editors show
 * (the built .d.ts files) carry a doc comment on each exported declaration and on each public
 * member of an exported class or interface. Undocumented API fails the suite.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ENTRIES = ['dist/lib/index.d.ts', 'dist/lib/browser.d.ts', 'dist/lib/oxenc/index.d.ts', 'dist/zmtp/public.d.ts', 'dist/curve/public.d.ts'];

/** (file, name) of every declaration an entry exposes, following re-exports. */
function exposed(file: string, names: Set<string> | 'all', out: Map<string, Set<string>>, seen = new Set<string>()): void {
  const key = `${file}|${names === 'all' ? '*' : [...names].sort().join(',')}`;
  if (seen.has(key)) return;
  seen.add(key);
  const text = readFileSync(file, 'utf8');
  const here = (spec: string) => resolve(dirname(file), spec.replace(/\.js$/, '.d.ts'));
  for (const m of text.matchAll(/export \*\s+from '([^']+)'/g)) exposed(here(m[1]!), names, out, seen);
  for (const m of text.matchAll(/export (?:type )?\{([^}]*)\}\s*from '([^']+)'/g)) {
    const wanted = new Set<string>();
    for (const part of m[1]!.split(',')) {
      const p = part.trim().replace(/^type /, '');
      if (!p) continue;
      const [orig, alias] = p.split(/\s+as\s+/);
      if (names === 'all' || names.has((alias ?? orig)!)) wanted.add(orig!);
    }
    if (wanted.size > 0) exposed(here(m[2]!), wanted, out, seen);
  }
  let set = out.get(file);
  if (!set) out.set(file, (set = new Set()));
  for (const m of text.matchAll(/^export (?:declare )?(?:abstract )?(?:class|function|const|let|interface|type|enum) (\w+)/gm)) {
    if (names === 'all' || names.has(m[1]!)) set.add(m[1]!);
  }
}

/** Undocumented exported declarations and public members in `file`, among `names`. */
function undocumented(file: string, names: Set<string>): string[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const bad: string[] = [];
  const documented = (i: number) => lines[i - 1]?.trim().endsWith('*/') ?? false;
  for (let i = 0; i < lines.length; i++) {
    const m = /^export (?:declare )?(?:abstract )?(class|function|const|let|interface|type|enum) (\w+)/.exec(lines[i]!);
    if (!m || !names.has(m[2]!)) continue;
    // An overload set is documented by its first signature.
    const isRepeat = m[1] === 'function' && new RegExp(`^export (?:declare )?function ${m[2]}\\b`).test(lines[i - 1] ?? '');
    // A type named like the const before it (the enum-like `const X = {…}; type X = …` pair) shares its doc.
    const twin = m[1] === 'type' && lines.slice(0, i).some((l) => new RegExp(`^export (?:declare )?const ${m[2]}\\b`).test(l));
    if (!documented(i) && !isRepeat && !twin) bad.push(`${m[2]}`);
    if (m[1] !== 'class' && m[1] !== 'interface') continue;
    let depth = 0;
    let prevName = '';
    for (let j = i; j < lines.length; j++) {
      const l = lines[j]!;
      if (depth === 1 && j > i) {
        const s = l.trim();
        const member = /^(?:(?:readonly|static|get|set|protected|abstract|accessor)\s+)*([\w$]+|\[[^\]]+\])\??(?:[(<:]|\s*\()/.exec(s);
        if (member && !s.startsWith('private ') && !s.startsWith('#') && !s.startsWith('constructor') && !s.startsWith('protected ')) {
          const name = member[1]!;
          const overload = name === prevName;
          if (!documented(j) && !overload) bad.push(`${m[2]}.${name}`);
          prevName = name;
        }
      }
      depth += (l.match(/{/g)?.length ?? 0) - (l.match(/}/g)?.length ?? 0);
      if (depth === 0 && j > i) break;
    }
  }
  return bad;
}

describe('docs: every public export is documented', () => {
  for (const entry of ENTRIES) {
    it(`${entry.replace(/^dist\//, '').replace(/\.d\.ts$/, '')}: each exported declaration and public member has a doc comment`, () => {
      const file = join(root, entry);
      expect(existsSync(file), 'declarations are built').to.equal(true);
      const all = new Map<string, Set<string>>();
      exposed(file, 'all', all);
      const missing: string[] = [];
      for (const [f, names] of all) for (const n of undocumented(f, names)) missing.push(`${f.slice(root.length)}: ${n}`);
      expect(missing).to.deep.equal([]);
    });
  }
});
