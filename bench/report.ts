/** Prints benchmark results as a table and as one JSON line each. */
import type { Ratio } from './rounds.js';

/** One result row: a name and named figures. */
export type Row = { name: string } & Record<string, string | number | boolean | null>;

/** What a workload gives: its rows, and the ratios it is judged by (the chart draws those). */
export interface Result {
  rows: Row[];
  ratios: Ratio[];
}

/** Prints rows as an aligned table followed by one JSON line per row. */
export function report(title: string, rows: Row[]): void {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : v == null ? '-' : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  console.log(`\n## ${title}`);
  console.log(line(cols));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(cols.map((c) => cell(r[c]))));
  for (const r of rows) console.log(JSON.stringify({ bench: title, ...r }));
}

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
