import Database from 'better-sqlite3';
import { lexicalTokens } from './src/vector-store/lexical.js';
const db = new Database('/tmp/lexscratch/100k.db', { readonly: true });
const t = db.prepare('select fts from vectors_8__lexical').pluck().get() as string;
db.exec(`CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, "${t}", 'row')`);
const qs = ['[5.7.2](https://github.com/taskforcesh/bullmq/compare/v5.7.1...v5.7.2) (2024-04-18) ### Bug Fixes * **stalled:** consider',
 'over at last: “and I do', 'this?” She said it', 'then,” thought Alice, “shall', '[5.33.1](https://github.com/taskforcesh/bullmq/compare/v5.33.0...v5.33.1) (2024-12-10) ### Bug'];
const df = db.prepare('select doc from v where term = ?').pluck();
const max = db.prepare(`select -bm25("${t}", 1.0, 0.0) s from "${t}" where "${t}" match ? order by s desc limit 1`).pluck();
const top = db.prepare(`select rowid, -bm25("${t}", 1.0, 0.0) s from "${t}" where "${t}" match ? order by s desc limit 30`);
const cnt = db.prepare(`select count(*) from "${t}" where "${t}" match ?`).pluck();
const m = (toks: string[]) => `terms : (${toks.map((x) => `"${x}"`).join(' OR ')})`;
for (const q of qs) {
  const tokens = [...new Set(lexicalTokens(q))];
  const terms = tokens.map((x) => ({ x, df: df.get(x) as number, max: max.get(m([x])) as number })).sort((a, b) => a.max - b.max);
  const rows = top.all(m(tokens)) as { s: number }[];
  const theta = rows[29]!.s;
  let sum = 0; let i = 0;
  while (i < terms.length && sum + terms[i]!.max < theta) { sum += terms[i]!.max; i++; }
  const essential = terms.slice(i).map((z) => z.x);
  console.log(q.slice(0, 50), '| theta', theta.toFixed(2), 'top1', rows[0]!.s.toFixed(2), '| union', cnt.get(m(tokens)), 'essential', essential.length, 'of', tokens.length, 'rows', essential.length ? cnt.get(m(essential)) : 0);
  console.log('   ', terms.map((z) => `${z.x}:${z.df}:${z.max.toFixed(2)}`).join(' '));
}
