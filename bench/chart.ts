/**
 * The ratios of a run as an SVG bar chart, one section per workload (SVG written directly: no
 * dependency, no browser). Each bar runs from 1 to its ratio on a log scale, so a bar to the
 * left of 1 is partd faster (or smaller) than what it is measured against; a black tick marks
 * the issue's target, and the bar is green where the target is met, red where not, grey where
 * there is none.
 */
import fs from 'node:fs';
import type { Ratio } from './rounds.js';

/** A workload's ratios, under its title. */
export interface Section {
  workload: string;
  ratios: Ratio[];
}

const W = 1060;
const LABEL = 440; // the labels' column
const PLOT = [LABEL + 20, W - 190] as const;
const BAR = 22;
const HEAD = 26;
const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const fmt = (v: number) => (v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** The chart's SVG text. */
export function chartSvg(title: string, sections: Section[]): string {
  const values = sections.flatMap((s) => s.ratios.flatMap((r) => [r.value, r.target ?? 1])).filter((v) => Number.isFinite(v) && v > 0);
  const lo = 2 ** Math.floor(Math.log2(Math.min(0.25, ...values)));
  const hi = 2 ** Math.ceil(Math.log2(Math.max(4, ...values)));
  const x = (v: number) =>
    PLOT[0] + ((Math.log2(Math.min(hi, Math.max(lo, v))) - Math.log2(lo)) / (Math.log2(hi) - Math.log2(lo))) * (PLOT[1] - PLOT[0]);
  const top = 78;
  const height = top + sections.reduce((h, s) => h + HEAD + s.ratios.length * BAR, 0) + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`,
    `<text x="12" y="44" fill="#444">Ratios of one run (medians of interleaved rounds): partd's time (or size) ÷ the baseline's or peer's; left of 1: partd ahead. Log scale.</text>`,
    `<text x="12" y="62" fill="#444">Black tick: the target of issue #16. Green: met; red: not met; grey: no target. "higher" marks a ratio where more is better.</text>`,
  ];
  for (let v = lo; v <= hi; v *= 2) {
    out.push(
      `<line x1="${x(v)}" y1="${top - 6}" x2="${x(v)}" y2="${height - 30}" stroke="${v === 1 ? '#333' : '#ddd'}" stroke-width="${v === 1 ? 1.5 : 1}"/>`,
    );
    out.push(`<text x="${x(v)}" y="${height - 14}" text-anchor="middle" fill="#444">${v >= 1 ? v : `1/${1 / v}`}</text>`);
  }
  let y = top;
  for (const s of sections) {
    out.push(`<text x="12" y="${y + 18}" font-weight="bold">${esc(s.workload)}</text>`);
    y += HEAD;
    for (const r of s.ratios) {
      const met = r.target === undefined ? undefined : r.better === 'higher' ? r.value >= r.target : r.value <= r.target;
      const colour = met === undefined ? '#8d99ae' : met ? '#2a9d8f' : '#e76f51';
      const [a, b] = [x(1), x(r.value)].sort((p, q) => p - q) as [number, number];
      out.push(`<text x="${LABEL}" y="${y + 15}" text-anchor="end">${esc(r.label)}${r.better === 'higher' ? ' (higher)' : ''}</text>`);
      out.push(`<rect x="${a}" y="${y + 4}" width="${Math.max(1, b - a)}" height="${BAR - 8}" fill="${colour}"/>`);
      if (r.target !== undefined)
        out.push(`<line x1="${x(r.target)}" y1="${y + 1}" x2="${x(r.target)}" y2="${y + BAR - 1}" stroke="black" stroke-width="2"/>`);
      const end = Math.max(b, r.target === undefined ? b : x(r.target)); // the value right of the bar and its tick
      out.push(
        `<text x="${end + 5}" y="${y + 15}" font-size="12">${fmt(r.value)}${r.target === undefined ? '' : ` (target ${r.better === 'higher' ? '≥' : '≤'} ${r.target})`}</text>`,
      );
      y += BAR;
    }
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Writes the chart to `file`. */
export function writeChart(file: string, title: string, sections: Section[]): void {
  fs.writeFileSync(file, chartSvg(title, sections));
}
