import Database from 'better-sqlite3';
import { lexicalTokens } from './src/vector-store/lexical.js';
const db = new Database('/tmp/lexscratch/100k.db', { readonly: true });
const t = db.prepare('select fts from vectors_8__lexical').pluck().get() as string;
const time = (label: string, f: () => unknown) => { f(); const c = process.cpuUsage(); for (let i = 0; i < 3; i++) f(); const d = process.cpuUsage(c); console.log(label, ((d.user + d.system) / 3000).toFixed(1), 'ms'); };
const q = '[5.7.2](https://github.com/taskforcesh/bullmq/compare/v5.7.1...v5.7.2) (2024-04-18) ### Bug Fixes * **stalled:** consider';
const tokens = [...new Set(lexicalTokens(q))];
const m = `terms : (${tokens.map((x) => `"${x}"`).join(' OR ')})`;
const rowids = (db.prepare(`select rowid from "${t}" where "${t}" match 'terms : "04"'`).pluck().all() as number[]);
const inq = db.prepare(`select rowid, -bm25("${t}", 1.0, 0.0) s from "${t}" where "${t}" match ? and rowid in (select value from json_each(?))`);
console.log(db.prepare(`explain query plan select rowid, -bm25("${t}", 1.0, 0.0) s from "${t}" where "${t}" match ? and rowid in (select value from json_each(?))`).all(m, '[1]'));
for (const n of [10, 100, 1000]) {
  const ids = JSON.stringify(rowids.slice(0, n));
  time(`IN ${n}`, () => inq.all(m, ids));
  const r = inq.all(m, ids) as { s: number }[];
  if (n === 10) console.log(r.slice(0, 3));
}
const full = db.prepare(`select rowid, -bm25("${t}", 1.0, 0.0) s from "${t}" where "${t}" match ? order by s desc limit 3`);
console.log(full.all(m));
