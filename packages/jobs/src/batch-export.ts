/** Batch reports as JSON Lines and CSV, for download and for other tools. */
import { stringify } from 'csv-stringify/sync';
import type { BatchItem, BatchReport } from './query-schemas.js';

/** One JSON object per line, one line per question, in question order. */
export function batchReportToJsonl(report: BatchReport): string {
  return report.items.map((item) => JSON.stringify(item)).join('\n') + (report.items.length > 0 ? '\n' : '');
}

export const BATCH_CSV_COLUMNS = [
  'index',
  'id',
  'question',
  'ok',
  'answer',
  'not_found',
  'reranked',
  'citations',
  'error',
] as const;

/**
 * One row per question. `citations` holds a JSON array (n, document id, source name, pages) so that
 * the CSV parses back without loss.
 */
export function batchReportToCsv(report: BatchReport): string {
  const rows = report.items.map((item: BatchItem) =>
    item.ok
      ? [
          item.index,
          item.id ?? '',
          item.question,
          'true',
          item.answer,
          String(item.notFound),
          String(item.reranked),
          JSON.stringify(item.citations),
          '',
        ]
      : [item.index, item.id ?? '', item.question, 'false', '', '', '', '', item.error],
  );
  return stringify(rows, { header: true, columns: [...BATCH_CSV_COLUMNS], quoted_string: true });
}
