/** A group's row from the gather's columns: made by the calling thread for `groupBy`, or in a gather thread as NDJSON text. */
import { keysOf, type PackedColumns } from '../protocol.js';

/** One group's row: its key and one column per aggregation. */
export type GroupRow = { key: string | number } & Record<string, unknown>;

type RowMaker = (key: string | number, columns: PackedColumns['columns'], i: number) => GroupRow;

const makers = new Map<string, RowMaker>();

/** A compiled `(key, columns, i) => row`: an object literal of one fixed shape, fast to build 100k times; compiled once per shape. */
export function rowMaker(names: readonly string[]): RowMaker {
  const id = JSON.stringify(names);
  let make = makers.get(id);
  if (make === undefined) {
    // Computed keys define own properties whatever the name (a literal "__proto__": would set the prototype).
    const fields = names.map((n, j) => `[${JSON.stringify(n)}]: c[${j}][i]`);
    makers.set(id, (make = new Function('key', 'c', 'i', `return { key, ${fields.join(', ')} };`) as RowMaker));
  }
  return make;
}

/** A partition's groups as NDJSON: one `JSON.stringify(row)` a line, as a caller of `iterateGroups` would write them. */
export interface GroupLines {
  rows: number;
  text: string;
}

/** The lines of `packed`'s groups (see `GroupLines`). */
export function groupLines(packed: PackedColumns, names: readonly string[]): GroupLines {
  const toRow = rowMaker(names);
  const keys = keysOf(packed);
  // a sum past Number.MAX_VALUE is ±Infinity, which JSON.stringify writes as null
  const infinite = packed.columns.filter((column) => column.some((v) => v === Infinity || v === -Infinity));
  let text = '';
  for (let i = 0; i < keys.length; i++) {
    const row = toRow(keys[i]!, packed.columns, i);
    text += (infinite.some((column) => column[i] === Infinity || column[i] === -Infinity) ? withInfinity(row) : JSON.stringify(row)) + '\n';
  }
  return { rows: keys.length, text };
}

/**
 * A row's JSON with ±Infinity as `1e999` and `-1e999`: valid JSON numbers that JSON.parse (and
 * most readers) read back as ±Infinity. Each is written as a marker string that the row's JSON
 * does not hold otherwise, then replaced.
 */
function withInfinity(row: GroupRow): string {
  const plain = JSON.stringify(row);
  let marker = 'Infinity';
  while (plain.includes(marker)) marker += '~';
  const json = JSON.stringify(row, (_, v: unknown) => (v === Infinity ? `+${marker}` : v === -Infinity ? `-${marker}` : v));
  return json.replaceAll(`"+${marker}"`, '1e999').replaceAll(`"-${marker}"`, '-1e999');
}
