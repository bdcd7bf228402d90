import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { lexicalTokens } from './src/vector-store/lexical.js';
const SOURCES = ['text/gutenberg_en_alice.txt','text/squad_wiki_Beyoncé.txt','text/squad_wiki_Frédéric_Chopin.txt','md/bullmq_changelog-v5.md','md/bullmq_flows.md','md/bullmq_postgresql.md'];
const words = SOURCES.flatMap((f) => readFileSync(join('/work/shared/corpus', f), 'utf8').split(/\s+/).filter((w) => w.length > 0));
function prng(seed: number) { let state = seed; return (n: number) => { state = (state * 1103515245 + 12345) % 2 ** 31; return state % n; }; }
const q = prng(7);
const questions = Array.from({ length: 220 }, () => { const s = q(words.length - 10); return words.slice(s, s + 4 + q(6)).join(' '); });
const db = new Database('/tmp/lexscratch/100k.db', { readonly: true });
const t = db.prepare('select fts from vectors_8__lexical').pluck().get() as string;
db.exec(`CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, "${t}", 'row')`);
const df = db.prepare('select doc from v where term = ?').pluck();
const all = new Set(questions.flatMap((x) => lexicalTokens(x)));
let sum = 0; const dfs: number[] = [];
for (const x of all) { const d = (df.get(x) as number) ?? 0; sum += d; dfs.push(d); }
dfs.sort((a, b) => b - a);
console.log('distinct', all.size, 'postings', sum, 'top10', dfs.slice(0, 10), 'over 20k', dfs.filter((d) => d > 20000).length);
const per = questions.map((x) => [...new Set(lexicalTokens(x))].reduce((s, y) => s + ((df.get(y) as number) ?? 0), 0)).sort((a, b) => a - b);
console.log('per-query postings p50', per[110], 'p95', per[209], 'max', per[219]);
