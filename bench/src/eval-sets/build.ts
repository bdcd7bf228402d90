/**
 * Builds the retrieval eval sets in `bench/eval-sets/<lang>/` (BEIR layout: corpus.jsonl,
 * queries.jsonl, qrels/test.tsv, answers.jsonl) from public-domain texts of the shared corpus.
 *
 * The passages are picked by a seeded PRNG, so the corpus is the same on every run; the questions
 * are written by hand about the picked passages (`bench/eval-sets/questions/<lang>.json`) and
 * checked here: each names a picked gold passage, and its gold answer string occurs in that
 * passage. Unanswerable questions ask about things none of the passages speaks of.
 *
 *   pnpm --filter @quire/bench eval-sets [--corpus ../shared/corpus] [--show <lang>]
 *
 * `--show` prints the gold candidates of one language (the passages the questions are written about).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { prng } from '../lib/prng.js';

const SEED = 20_261_206;
/** Passages per language: the gold candidates plus distractors. */
const CORPUS_SIZE = 200;
/** Passages questions may be written about (at least 50 of them get one). */
const GOLD_CANDIDATES = 60;

export const LANGUAGES = ['en', 'de', 'zh', 'ja'] as const;
export type Language = (typeof LANGUAGES)[number];

interface Source {
  file: string;
  title: string;
  /** Paragraphs of the text, boilerplate removed, in reading order. */
  paragraphs: (text: string) => string[];
  minChars: number;
  maxChars: number;
}

/** Drops the Project Gutenberg licence header and footer (the text itself is public domain). */
function gutenbergBody(text: string): string {
  const start = text.search(/^\*\*\* START OF .*\*\*\*$/m);
  const end = text.search(/^\*\*\* END OF .*\*\*\*$/m);
  if (start < 0 || end < 0) throw new Error('not a Project Gutenberg text: no START/END markers');
  return text.slice(text.indexOf('\n', start) + 1, end);
}

/** Blank-line separated paragraphs, their lines joined with spaces, `_emphasis_` marks dropped. */
function proseParagraphs(text: string): string[] {
  return gutenbergBody(text.replace(/\r\n/g, '\n'))
    .split(/\n\s*\n/)
    .map((p) =>
      p
        .replace(/\s*\n\s*/g, ' ')
        .replace(/_/g, '')
        .trim(),
    )
    .filter((p) => p !== '' && !/^(CHAPTER|Kapitel|KAPITEL)\b/.test(p));
}

/** Aozora Bunko: ruby readings 《…》, their start marks ｜ and editor notes ［＃…］ removed. */
function aozoraParagraphs(text: string): string[] {
  const body =
    text
      .replace(/\r\n/g, '\n')
      .split(/\n-{10,}\n/)
      .at(-1) ?? text;
  return body
    .split('\n')
    .map((line) =>
      line
        .replace(/《[^》]*》/g, '')
        .replace(/［＃[^］]*］/g, '')
        .replace(/｜/g, '')
        .trim(),
    )
    .filter((line) => line !== '' && !line.startsWith('底本'));
}

/** Hongloumeng: indented paragraph lines; chapter titles (第…回) left out. */
function hongloumengParagraphs(text: string): string[] {
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^第.{1,6}回/.test(line));
}

const SOURCES: Record<Language, Source> = {
  en: {
    file: 'text/gutenberg_en_alice.txt',
    title: "Alice's Adventures in Wonderland",
    paragraphs: proseParagraphs,
    minChars: 160,
    maxChars: 1200,
  },
  de: {
    file: 'text/gutenberg_de_alice.txt',
    title: 'Alice’s Abenteuer im Wunderland',
    paragraphs: proseParagraphs,
    minChars: 160,
    maxChars: 1200,
  },
  zh: {
    file: 'text/zh_hongloumeng.txt',
    title: '红楼梦',
    paragraphs: hongloumengParagraphs,
    minChars: 80,
    maxChars: 400,
  },
  ja: {
    file: 'text/aozora_ja_bocchan.txt',
    title: '坊っちゃん',
    paragraphs: aozoraParagraphs,
    minChars: 60,
    maxChars: 800,
  },
};

export interface Passage {
  _id: string;
  title: string;
  text: string;
}

/** The language's corpus (in reading order) and its gold candidates (in pick order). */
export function pickPassages(language: Language, corpusRoot: string): { corpus: Passage[]; gold: Passage[] } {
  const source = SOURCES[language];
  const text = readFileSync(join(corpusRoot, source.file), 'utf8').replace(/^\uFEFF/, '');
  const eligible = source
    .paragraphs(text)
    .map((p, position) => ({ p, position }))
    .filter(({ p }) => [...p].length >= source.minChars && [...p].length <= source.maxChars);
  if (eligible.length < CORPUS_SIZE) {
    throw new Error(`${source.file}: only ${eligible.length} paragraphs fit, ${CORPUS_SIZE} needed`);
  }
  const random = prng(SEED + LANGUAGES.indexOf(language));
  // A partial Fisher–Yates shuffle: the first CORPUS_SIZE are the picks, the first GOLD_CANDIDATES of
  // them the gold candidates.
  const order = eligible.slice();
  for (let i = 0; i < CORPUS_SIZE; i++) {
    const j = i + random(order.length - i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const picked = order.slice(0, CORPUS_SIZE);
  const toPassage = ({ p, position }: { p: string; position: number }): Passage => ({
    _id: `${language}-p${String(position).padStart(4, '0')}`,
    title: source.title,
    text: p,
  });
  return {
    corpus: picked
      .slice()
      .sort((a, b) => a.position - b.position)
      .map(toPassage),
    gold: picked.slice(0, GOLD_CANDIDATES).map(toPassage),
  };
}

const QuestionFileSchema = z
  .object({
    answerable: z
      .array(
        z.object({ passage: z.string(), question: z.string().min(5), answer: z.string().min(1) }).strict(),
      )
      .min(50),
    unanswerable: z.array(z.string().min(5)).min(20),
  })
  .strict();

function jsonl(rows: readonly unknown[]): string {
  return `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;
}

function build(language: Language, corpusRoot: string, outRoot: string): string {
  const { corpus, gold } = pickPassages(language, corpusRoot);
  const goldById = new Map(gold.map((p) => [p._id, p]));
  const file = join(outRoot, 'questions', `${language}.json`);
  const questions = QuestionFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const seen = new Set<string>();
  for (const q of questions.answerable) {
    const passage = goldById.get(q.passage);
    if (passage === undefined) throw new Error(`${file}: ${q.passage} is not a gold candidate`);
    if (!passage.text.includes(q.answer)) {
      throw new Error(`${file}: answer ${JSON.stringify(q.answer)} is not in ${q.passage}`);
    }
    if (passage.text.includes(q.question)) throw new Error(`${file}: question copied from ${q.passage}`);
    if (seen.has(q.question)) throw new Error(`${file}: duplicate question ${JSON.stringify(q.question)}`);
    seen.add(q.question);
  }
  const dir = join(outRoot, language);
  mkdirSync(join(dir, 'qrels'), { recursive: true });
  writeFileSync(join(dir, 'corpus.jsonl'), jsonl(corpus));
  const queries = [
    ...questions.answerable.map((q, i) => ({
      _id: `${language}-q${String(i + 1).padStart(3, '0')}`,
      text: q.question,
    })),
    ...questions.unanswerable.map((text, i) => ({
      _id: `${language}-u${String(i + 1).padStart(3, '0')}`,
      text,
    })),
  ];
  writeFileSync(join(dir, 'queries.jsonl'), jsonl(queries));
  writeFileSync(
    join(dir, 'qrels', 'test.tsv'),
    `query-id\tcorpus-id\tscore\n${questions.answerable
      .map((q, i) => `${queries[i]!._id}\t${q.passage}\t1\n`)
      .join('')}`,
  );
  writeFileSync(
    join(dir, 'answers.jsonl'),
    jsonl(questions.answerable.map((q, i) => ({ _id: queries[i]!._id, answers: [q.answer] }))),
  );
  return `${language}: ${corpus.length} passages, ${questions.answerable.length} answerable, ${questions.unanswerable.length} unanswerable`;
}

const here = dirname(fileURLToPath(import.meta.url));
const outRoot = resolve(here, '../../eval-sets');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const corpusAt = args.indexOf('--corpus');
  const corpusRoot = resolve(
    corpusAt >= 0 ? args[corpusAt + 1]! : resolve(here, '../../../../shared/corpus'),
  );
  const showAt = args.indexOf('--show');
  if (showAt >= 0) {
    const language = args[showAt + 1] as Language;
    for (const p of pickPassages(language, corpusRoot).gold) console.log(`## ${p._id}\n${p.text}\n`);
  } else {
    for (const language of LANGUAGES) console.log(build(language, corpusRoot, outRoot));
  }
}
