import Database from 'better-sqlite3';
import { lexicalTokens } from './src/vector-store/lexical.js';
const db = new Database('/tmp/lexscratch/100k.db', { readonly: true });
const t = db.prepare('select fts from vectors_8__lexical').pluck().get() as string;
const time = (label: string, f: () => unknown) => { f(); const c = process.cpuUsage(); for (let i = 0; i < 3; i++) f(); const d = process.cpuUsage(c); console.log(label, ((d.user + d.system) / 3000).toFixed(1), 'ms'); };
const top1 = db.prepare(`select -bm25("${t}", 1.0, 0.0) s from "${t}" where "${t}" match ? order by s desc limit 1`);
const all = db.prepare(`select rowid, bm25("${t}", 1.0, 0.0) s from "${t}" where "${t}" match ?`).raw();
const cnt = db.prepare(`select count(*) from "${t}" where "${t}" match ?`);
for (const x of ['04', '1', 'https', 'said']) {
  time(`top1 ${x}`, () => top1.get(`terms : "${x}"`));
  time(`all rows to js ${x}`, () => all.all(`terms : "${x}"`));
  time(`count ${x}`, () => cnt.get(`terms : "${x}"`));
}
const q = '[5.7.2](https://github.com/taskforcesh/bullmq/compare/v5.7.1...v5.7.2) (2024-04-18) ### Bug Fixes * **stalled:** consider';
const tokens = [...new Set(lexicalTokens(q))];
const opt = tokens.filter((x) => x !== '04');
time('04 with 17 optional', () => top1.get(`terms : "04" AND (terms : (${opt.map((x) => `"${x}"`).join(' OR ')}) OR every : x)`));
time('04 with 17 optional, no every', () => top1.get(`terms : "04" AND (terms : (${opt.map((x) => `"${x}"`).join(' OR ')}))`));
time('04 with 4 optional', () => top1.get(`terms : "04" AND (terms : (${opt.slice(0,4).map((x) => `"${x}"`).join(' OR ')}) OR every : x)`));
