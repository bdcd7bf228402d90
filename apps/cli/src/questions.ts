/**
 * Questions files for `quire batch`:
 * - `.txt`: one question per line; blank lines are skipped;
 * - `.jsonl`: one JSON object per line, `{"question": "…", "id": "…"}` (`id` optional);
 * - `.csv`: a header row with a `question` column and optionally an `id` column.
 * Every problem is reported with its line (or row) number.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { type BatchQuestion, BatchQuestionSchema, describeZodError, MAX_BATCH_QUESTIONS } from '@quire/jobs';
import { parse } from 'csv-parse/sync';
import { CliError, errorMessage } from './errors.js';

export const QUESTION_FORMATS = ['txt', 'jsonl', 'csv'] as const;
export type QuestionFormat = (typeof QUESTION_FORMATS)[number];

/** The format a file name says, or undefined. */
export function questionFormatOf(path: string): QuestionFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.txt' || ext === '.text') return 'txt';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  return undefined;
}

export async function readQuestionsFile(path: string, format?: QuestionFormat): Promise<BatchQuestion[]> {
  const chosen = format ?? questionFormatOf(path);
  if (chosen === undefined) {
    throw new CliError(
      `cannot tell the format of ${path} from its extension: name it .txt, .jsonl or .csv, or pass --format`,
      2,
    );
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the questions file ${path}: ${errorMessage(error)}`);
  }
  return parseQuestions(text.replace(/^\uFEFF/, ''), chosen, path);
}

/** Parses questions from text; `label` names the file in errors. */
export function parseQuestions(text: string, format: QuestionFormat, label: string): BatchQuestion[] {
  const questions =
    format === 'txt' ? parseTxt(text) : format === 'jsonl' ? parseJsonl(text, label) : parseCsv(text, label);
  if (questions.length === 0) throw new CliError(`${label} holds no questions`);
  if (questions.length > MAX_BATCH_QUESTIONS) {
    throw new CliError(
      `${label} holds ${questions.length} questions; a batch has at most ${MAX_BATCH_QUESTIONS}`,
    );
  }
  const ids = new Set<string>();
  for (const q of questions) {
    if (q.id === undefined) continue;
    if (ids.has(q.id)) throw new CliError(`${label}: id ${JSON.stringify(q.id)} is used twice`);
    ids.add(q.id);
  }
  return questions;
}

function parseTxt(text: string): BatchQuestion[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((question) => ({ question }));
}

function parseJsonl(text: string, label: string): BatchQuestion[] {
  const questions: BatchQuestion[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${label}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new CliError(`${where}: not valid JSON`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new CliError(`${where}: expected an object like {"question": "…", "id": "…"}`);
    }
    // Other fields (an expected answer, notes …) are welcome in the file and left out of the batch.
    const { question, id } = value as { question?: unknown; id?: unknown };
    const ownId = typeof id === 'number' ? String(id) : id;
    questions.push(
      checkQuestion({ question, ...(ownId === undefined || ownId === null ? {} : { id: ownId }) }, where),
    );
  });
  return questions;
}

function parseCsv(text: string, label: string): BatchQuestion[] {
  let rows: Record<string, string>[];
  try {
    rows = parse(text, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
    }) as Record<string, string>[];
  } catch (error) {
    throw new CliError(`${label}: not valid CSV: ${errorMessage(error)}`);
  }
  const first = rows[0];
  if (first !== undefined && !('question' in first)) {
    throw new CliError(`${label}: the header row needs a "question" column (and optionally "id")`);
  }
  // Row 1 is the header, so data rows start at 2.
  return rows.map((row, index) =>
    checkQuestion(
      { question: row.question, ...(row.id !== undefined && row.id !== '' ? { id: row.id } : {}) },
      `${label}: row ${index + 2}`,
    ),
  );
}

function checkQuestion(value: unknown, where: string): BatchQuestion {
  const parsed = BatchQuestionSchema.safeParse(value);
  if (!parsed.success) throw new CliError(`${where}: ${describeZodError(parsed.error)}`);
  return parsed.data;
}
