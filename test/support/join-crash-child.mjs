// Runs test/crash.test.ts's outer join on a kept store (argv: store, rows file, left count,
// right count): prints "commit" after each commit it writes and "gather" at the first gather
// event, writes each row's JSON to the rows file, and prints its stats as JSON at the end.
// With PARTD_TEST_PAUSE_MS set its inputs are slowed (join-crash-records.mjs), and so is its
// reading of the rows (that many ms per 1,000 rows), so a kill in the gather lands before it ends.
import fs from 'node:fs';
import { join } from '../../dist/src/index.js';

const [store, file, leftCount, rightCount] = process.argv.slice(2);
const pause = Number(process.env.PARTD_TEST_PAUSE_MS ?? 0);
const records = new URL('./join-crash-records.mjs', import.meta.url);
let appended = 0;
let gathering = false;
let stats;
const rows = [];
const progress = (p) => {
  // called once a commit's transaction has committed: the store holds it from here on
  if (p.phase === 'scatter' && p.bytesAppended > appended) ((appended = p.bytesAppended), console.log('commit'));
  if (p.phase === 'gather' && !gathering) ((gathering = true), console.log('gather'));
};
const options = {
  left: { generate: { module: records, export: 'facts' }, count: Number(leftCount) },
  right: { generate: { module: records, export: 'dims' }, count: Number(rightCount) },
  on: 'key',
  how: 'outer',
  partitions: 8,
  workers: 2,
  splits: 4,
  memory: 2 << 20, // a megabyte a session: each side commits several parts, so kills land between them
  store,
  progress,
};
for await (const row of join(options, (s) => (stats = s))) {
  rows.push(JSON.stringify(row));
  if (pause > 0 && rows.length % 1000 === 0) await new Promise((resolve) => setTimeout(resolve, pause));
}
fs.writeFileSync(file, rows.join('\n'));
const { left, right } = stats;
console.log(
  JSON.stringify({
    rows: stats.rows,
    left: { records: left.records, resumed: left.resumed },
    right: { records: right.records, resumed: right.resumed },
  }),
);
