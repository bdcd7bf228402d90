/**
 * Reads an eval set in the BEIR layout: `corpus.jsonl` (`_id`, `text`, `title`?), `queries.jsonl`
 * (`_id`, `text`), `qrels/<split>.tsv` (`query-id`, `corpus-id`, `score`, with a header row) and an
 * optional `answers.jsonl` (`_id`, `answers`: gold strings). Every error names the file and line.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalInput } from '@quire/jobs';
import * as z from 'zod';
import { CliError } from './errors.js';

const CorpusLineSchema = z.object({ _id: z.coerce.string(), text: z.string(), title: z.string().optional() });
const QueryLineSchema = z.object({ _id: z.coerce.string(), text: z.string() });
const AnswerLineSchema = z.object({ _id: z.coerce.string(), answers: z.array(z.string()).min(1) });

export type BeirSet = Pick<EvalInput, 'queries' | 'qrels'> & Partial<Pick<EvalInput, 'corpus' | 'answers'>>;

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

function jsonLines<T>(path: string, text: string, schema: z.ZodType<T>): T[] {
  const rows: T[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new CliError(`${path}:${i + 1}: not a JSON object`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CliError(
        `${path}:${i + 1}: ${issue?.path.join('.') || 'line'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    rows.push(parsed.data);
  });
  return rows;
}

function qrelsOf(path: string, text: string): EvalInput['qrels'] {
  const qrels: EvalInput['qrels'] = [];
  text.split('\n').forEach((line, i) => {
    const cells = line.trim().split('\t');
    if (line.trim() === '' || (i === 0 && cells[0] === 'query-id')) return;
    const [queryId, documentId, score] = cells;
    const grade = Number(score);
    if (cells.length !== 3 || !queryId || !documentId || !Number.isInteger(grade) || grade < 0) {
      throw new CliError(
        `${path}:${i + 1}: expected "query-id<TAB>corpus-id<TAB>score" with a whole score ≥ 0`,
      );
    }
    qrels.push({ queryId, documentId, grade });
  });
  return qrels;
}

/**
 * The set in `dir`. `corpus: false` leaves `corpus.jsonl` unread (the tenant's documents are
 * searched instead); `split` names the qrels file.
 */
export async function readBeirSet(
  dir: string,
  options: { split: string; corpus: boolean },
): Promise<BeirSet> {
  const queriesPath = join(dir, 'queries.jsonl');
  const queriesText = await readOptional(queriesPath);
  if (queriesText === null) throw new CliError(`${queriesPath} is missing: an eval set needs its questions`);
  const qrelsPath = join(dir, 'qrels', `${options.split}.tsv`);
  const qrelsText = await readOptional(qrelsPath);
  if (qrelsText === null) throw new CliError(`${qrelsPath} is missing (choose the split with --split)`);
  const set: BeirSet = {
    queries: jsonLines(queriesPath, queriesText, QueryLineSchema).map((q) => ({ id: q._id, text: q.text })),
    qrels: qrelsOf(qrelsPath, qrelsText),
  };
  if (options.corpus) {
    const corpusPath = join(dir, 'corpus.jsonl');
    const corpusText = await readOptional(corpusPath);
    if (corpusText === null) {
      throw new CliError(`${corpusPath} is missing (pass --no-corpus to search the tenant's documents)`);
    }
    set.corpus = jsonLines(corpusPath, corpusText, CorpusLineSchema).map((d) => ({
      id: d._id,
      text: d.text,
      ...(d.title ? { title: d.title } : {}),
    }));
  }
  const answersPath = join(dir, 'answers.jsonl');
  const answersText = await readOptional(answersPath);
  if (answersText !== null) {
    set.answers = jsonLines(answersPath, answersText, AnswerLineSchema).map((a) => ({
      queryId: a._id,
      answers: a.answers,
    }));
  }
  return set;
}
