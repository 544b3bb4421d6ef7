/**
 * Files as other tools write them, for test/exact-answers.test.ts:
 * - Excel's "CSV UTF-8 (Comma delimited)": a BOM, `\r\n` after every row, a field quoted
 *   only when it holds a comma, a quote or a line break (a line break inside a cell is `\n`,
 *   as Alt+Enter types it), `""` for a quote;
 * - pandas `DataFrame.to_csv` (Python's csv module, QUOTE_MINIMAL): `\n` after every row, the
 *   same quoting, NaN as an empty field, float columns as `5.0`, and by default an unnamed
 *   index column first;
 * - NDJSON as `JSON.stringify` / `jq -c` write it (one compact object a line, `\n`), and as
 *   Python's `json.dumps` does (`", "` and `": "` separators, non-ASCII as `\u00e9`).
 */

/** A CSV field, quoted when it must be. */
export function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Excel "CSV UTF-8": BOM, CRLF. */
export function excelCsv(header: string[], rows: string[][]): string {
  return '\uFEFF' + [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** pandas `to_csv(path)` (index=True): an unnamed index column, LF. `index: false` leaves it out. */
export function pandasCsv(header: string[], rows: string[][], { index = true } = {}): string {
  const lines = [index ? ['', ...header] : header, ...rows.map((r, i) => (index ? [String(i), ...r] : r))];
  return lines.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

/** Plain CSV with LF and no BOM (what most tools write). */
export function plainCsv(header: string[], rows: string[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

/** NDJSON as JSON.stringify or `jq -c` writes it. */
export function ndjson(records: unknown[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** One line as Python's json.dumps writes it: spaced separators, non-ASCII escaped. */
export function pythonJson(record: unknown): string {
  const compact = JSON.stringify(record);
  // re-space outside strings, escape non-ASCII inside them
  let out = '';
  let inString = false;
  for (let i = 0; i < compact.length; i++) {
    const c = compact[i]!;
    if (inString) {
      if (c === '\\') {
        out += c + compact[i + 1]!;
        i++;
        continue;
      }
      if (c === '"') inString = false;
      const code = c.charCodeAt(0);
      out += code > 0x7e ? `\\u${code.toString(16).padStart(4, '0')}` : c;
      continue;
    }
    if (c === '"') inString = true;
    out += c === ',' ? ', ' : c === ':' ? ': ' : c;
  }
  return out;
}

/** Raw NDJSON lines (for numbers JavaScript cannot write, such as 20-digit integers). */
export function lines(ls: string[], { bom = false, crlf = false } = {}): string {
  return (bom ? '\uFEFF' : '') + ls.join(crlf ? '\r\n' : '\n') + (crlf ? '\r\n' : '\n');
}
