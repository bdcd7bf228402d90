/** Batch reports as JSON Lines and CSV, for download and for other tools. */
import { stringify } from 'csv-stringify/sync';
import type { BatchItem, BatchReport } from './query-schemas.js';

/** One JSON object per line (a `BatchItem`), one line per question, in question order. */
export function batchReportToJsonl(report: BatchReport): string {
  return report.items.map((item) => `${JSON.stringify(item)}\n`).join('');
}

export const BATCH_CSV_COLUMNS = [
  'index',
  'id',
  'question',
  'ok',
  'answer',
  'not_found',
  'reranked',
  'rerank_error',
  'citations',
  'embed_ms',
  'search_ms',
  'rerank_ms',
  'generate_ms',
  'total_ms',
  'error',
] as const;

/**
 * What happens to a text cell that a spreadsheet would run as a formula (it starts with `=`, `+`,
 * `-`, `@`, a tab or a carriage return): `escape` puts an apostrophe before it, as OWASP advises
 * against CSV injection, so that spreadsheets show it as text; `keep` writes it as it is (for
 * programs that read the CSV exactly; the JSON Lines export is exact in any case).
 */
export type CsvFormulas = 'escape' | 'keep';

const FORMULA_START = /^[=+\-@\t\r]/;

/** `'=1+1'` → `"'=1+1"`; other text unchanged. */
export function escapeFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/**
 * One row per question, in question order, with a header row (see {@link BATCH_CSV_COLUMNS}).
 * Every field of a `BatchItem` has a column, so the CSV reads back without loss: `id` is empty
 * when the question had none (ids are never empty), `ok`, `not_found` and `reranked` are `true`
 * or `false`, `citations` holds the citations as a JSON array, the `*_ms` columns the stage
 * timings; a failed question has only `index`, `id`, `question`, `ok` and `error`. Text fields are
 * quoted, so answers with commas, quotes or line breaks stay in one field. Questions and answers
 * come from outside (callers, documents, a model), so by default a text cell that would start a
 * formula is escaped (see {@link CsvFormulas}).
 */
export function batchReportToCsv(report: BatchReport, options: { formulas?: CsvFormulas } = {}): string {
  const text = options.formulas === 'keep' ? (value: string) => value : escapeFormula;
  const rows = report.items.map((item: BatchItem) =>
    item.ok
      ? [
          item.index,
          text(item.id ?? ''),
          text(item.question),
          'true',
          text(item.answer),
          String(item.notFound),
          String(item.reranked),
          text(item.rerankError ?? ''),
          JSON.stringify(item.citations),
          item.timingsMs.embed,
          item.timingsMs.search,
          item.timingsMs.rerank,
          item.timingsMs.generate,
          item.timingsMs.total,
          '',
        ]
      : [
          item.index,
          text(item.id ?? ''),
          text(item.question),
          'false',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          text(item.error),
        ],
  );
  return stringify(rows, { header: true, columns: [...BATCH_CSV_COLUMNS], quoted_string: true });
}
