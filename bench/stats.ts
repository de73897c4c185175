/** Small statistics and number formatting for the reports. */

/** Median of a non-empty list (mean of the middle two for even lengths). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile `p` (0..100) of an ascending-sorted array. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Median with the min–max range. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Median and range of a non-empty list. */
export function spread(xs: readonly number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

const DECIMAL: readonly [number, string][] = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];
const BINARY: readonly [number, string][] = [
  [2 ** 30, 'Gi'],
  [2 ** 20, 'Mi'],
  [2 ** 10, 'Ki'],
];

const TIME: readonly [number, string][] = [
  [1e6, 's'],
  [1e3, 'ms'],
];

/** `x` scaled to the largest step it reaches: [three significant digits, prefix or `none`]. */
function scaled(x: number, prefixes: readonly [number, string][], none = ''): [string, string] {
  // Rounded first, so 999.7 becomes "1.00 k", not "1000" or "1.000 k".
  const r = Number(x.toPrecision(3));
  for (const [d, p] of prefixes) if (Math.abs(r) >= d) return [sig(r / d), p];
  return [sig(r), none];
}

/** 1234567 → "1.23 M"; keeps three significant digits. */
export function si(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const [n, p] = scaled(x, DECIMAL);
  return p ? `${n} ${p}` : n;
}

/**
 * A figure with its unit, the prefix joined to the unit where the unit is a byte or time unit:
 * `1.23 GB/s` (B/s, decimal), `12.0 KiB/conn` (B/conn, binary, as memory targets are stated),
 * `2.17 ms` (us scaled up), and `1.23 M msg/s` for counted things.
 */
export function fmt(x: number, unit: string, label?: string): string {
  let n: string;
  if (!Number.isFinite(x)) n = `${String(x)} ${unit}`;
  else if (unit === 'us') {
    const [digits, p] = scaled(x, TIME, 'µs');
    n = `${digits} ${p}`;
  } else if (unit.startsWith('B/')) {
    const [digits, p] = scaled(x, unit === 'B/s' ? DECIMAL : BINARY);
    n = `${digits} ${p}${unit}`;
  } else n = `${si(x)} ${unit}`;
  return label ? `${label} ${n}` : n;
}

/** Three significant digits, no exponent. */
export function sig(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(x))));
  return x.toFixed(Math.min(digits, 6));
}

/** A ratio spread as "0.45× (0.41–0.47)". */
export function ratioText(r: Spread): string {
  return `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
}

/**
 * The least-squares slope of `ys` over `xs` (units of y per unit of x): how fast a reading
 * grows over a run. NaN for fewer than two points or all-equal xs.
 */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return NaN;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i]!;
    sy += ys[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}
