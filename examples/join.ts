/**
 * A join: orders in an NDJSON file joined with users given in this thread, on the orders' `user`
 * and the users' `id`, on 2 worker threads; a left join keeps the orders without a user (a user
 * not in the table, or no user field: null never matches), an outer join also the users without
 * orders; then the same rows written to an NDJSON file. Run: `npm run build && node dist/examples/join.js`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { join, joinToFile } from '../src/index.js';

type Order = { order: number; user?: string; amount: number };
type User = { id: string; name: string };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-example-'));
const file = path.join(dir, 'orders.ndjson');
// 1000 orders of users u0..u6, every 100th without a user field
const orders: Order[] = Array.from({ length: 1000 }, (_, i) =>
  i % 100 === 0 ? { order: i, amount: i % 10 } : { order: i, user: `u${i % 7}`, amount: i % 10 },
);
fs.writeFileSync(file, orders.map((o) => JSON.stringify(o)).join('\n') + '\n');
// users u0..u4 and u9: u5 and u6 are missing, u9 has no orders
const users: User[] = [0, 1, 2, 3, 4, 9].map((k) => ({ id: `u${k}`, name: `user ${k}` }));

const options = { left: { ndjson: file }, right: { records: users }, on: { left: 'user', right: 'id' }, partitions: 4, workers: 2 };
let matched = 0;
let noUser = 0;
let keyless = 0;
for await (const { key, right } of join<Order, User>({ ...options, how: 'left' })) {
  if (right !== null) matched++;
  else if (key === null) keyless++;
  else noUser++;
}
console.log(`left join: ${matched} orders with their user, ${noUser} of a user not in the table, ${keyless} without a user field`);

const idle: string[] = [];
for await (const { left, right } of join<Order, User>({ ...options, how: 'outer' })) if (left === null) idle.push(right!.id);
console.log(`outer join: users without orders: ${idle.join(', ')}`);

const out = path.join(dir, 'joined.ndjson');
const stats = await joinToFile({ ...options, how: 'inner' }, out);
const lines = fs
  .readFileSync(out, 'utf8')
  .trimEnd()
  .split('\n')
  .map((l) => JSON.parse(l) as { key: string; left: Order; right: User });
console.log(`inner join: ${stats.rows} rows of ${stats.left.records} orders and ${stats.right.records} users written to NDJSON`);
console.log(`${lines.length} lines, each an order with its user: ${lines.every((r) => r.left.user === r.key && r.right.id === r.key)}`);
fs.rmSync(dir, { recursive: true });
