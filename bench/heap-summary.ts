/**
 * Summarises V8 heap snapshots (.heapsnapshot, as v8.writeHeapSnapshot writes them) by what
 * allocated each node, and diffs two of them: where the heap of N idle connections goes, in
 * objects and bytes per connection. Shallow (self) sizes only — retained sizes would need the
 * dominator tree, and the per-constructor shallow sums already add up to the heap delta.
 *
 * Also runnable on its own: `node dist/bench/heap-summary.js BEFORE AFTER N`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Count and shallow bytes per group. */
export type HeapGroups = Map<string, { count: number; size: number }>;

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

// Types whose node name is content (a string's text, a number), not a kind: grouped by type.
const BY_TYPE = new Set(['string', 'concatenated string', 'sliced string', 'number', 'heap number', 'code', 'regexp', 'bigint', 'object shape']);

/** Groups a snapshot's nodes by `type name` (constructor for objects, function for closures). */
export function groupSnapshot(path: string): HeapGroups {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const fType = fields.indexOf('type');
  const fName = fields.indexOf('name');
  const fSize = fields.indexOf('self_size');
  const groups: HeapGroups = new Map();
  const { nodes, strings } = snap;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + fType]!]!;
    if (type === 'synthetic') continue;
    const name = strings[nodes[i + fName]!]!;
    const key = BY_TYPE.has(type) ? `(${type})` : type === 'closure' ? `${name.slice(0, 60)}() closure` : `${name.slice(0, 60)} (${type})`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { count: 0, size: 0 }));
    g.count++;
    g.size += nodes[i + fSize]!;
  }
  return groups;
}

/** One line of a diff: what `n` connections added, per connection. */
export interface GroupDelta {
  key: string;
  countPerConn: number;
  bytesPerConn: number;
}

/** after − before per group, divided by `n`, largest first. */
export function diffGroups(before: HeapGroups, after: HeapGroups, n: number): GroupDelta[] {
  const out: GroupDelta[] = [];
  for (const [key, a] of after) {
    const b = before.get(key) ?? { count: 0, size: 0 };
    out.push({ key, countPerConn: (a.count - b.count) / n, bytesPerConn: (a.size - b.size) / n });
  }
  return out.sort((x, y) => y.bytesPerConn - x.bytesPerConn);
}

/** The diff as text: the `top` largest groups and the total. */
export function formatDiff(deltas: GroupDelta[], top = 30): string {
  const total = deltas.reduce((s, d) => s + d.bytesPerConn, 0);
  const lines = [`${'B/conn'.padStart(9)} ${'obj/conn'.padStart(9)}  group (type)`];
  for (const d of deltas.slice(0, top)) {
    lines.push(`${d.bytesPerConn.toFixed(1).padStart(9)} ${d.countPerConn.toFixed(2).padStart(9)}  ${d.key}`);
  }
  lines.push(`${total.toFixed(1).padStart(9)} ${''.padStart(9)}  total shallow heap delta per connection`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [before, after, n] = process.argv.slice(2);
  if (before === undefined || after === undefined || n === undefined) {
    process.stderr.write('usage: node dist/bench/heap-summary.js BEFORE.heapsnapshot AFTER.heapsnapshot CONNECTIONS\n');
    process.exit(2);
  }
  process.stdout.write(`${formatDiff(diffGroups(groupSnapshot(before), groupSnapshot(after), Number(n)), 40)}\n`);
}
