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
  let text = '';
  for (let i = 0; i < keys.length; i++) text += JSON.stringify(toRow(keys[i]!, packed.columns, i)) + '\n';
  return { rows: keys.length, text };
}
