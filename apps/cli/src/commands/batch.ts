/**
 * `quire batch <questions file> [--out results.jsonl|.csv]`: many questions as one job; follows
 * its progress and writes the report (JSON Lines or CSV; JSON Lines on stdout without `--out`).
 */
import { basename, extname } from 'node:path';
import {
  type BatchReport,
  batchReportToCsv,
  batchReportToJsonl,
  type CsvFormulas,
  QUEUES,
} from '@quire/jobs';
import { type CommandContext, tenantLabel, withBackend } from '../context.js';
import { CliError } from '../errors.js';
import { followFlow, writeReport } from '../follow.js';
import { type QuestionFormat, readQuestionsFile } from '../questions.js';
import { type FilterOptions, toFilter, toQueryOptions } from './ask.js';
import { warnWithoutWorkers } from './ingest.js';

export type ReportFormat = 'jsonl' | 'csv';

export interface BatchCommandOptions extends FilterOptions {
  /** Where the report goes; stdout when absent. */
  out?: string;
  /** Report format; by default from `out`'s extension, JSON Lines on stdout. */
  format?: ReportFormat;
  /** CSV cells that would run as spreadsheet formulas: escaped (the default) or kept. */
  csvFormulas?: CsvFormulas;
  /** Format of the questions file; by default from its extension. */
  questionsFormat?: QuestionFormat;
  name?: string;
  topN?: number;
  candidates?: number;
  /** Token budget of each answer's passages (`--context-tokens`). */
  contextTokens?: number;
  /** Put each answer's passages in the report. */
  includePassages?: boolean;
  /** Put the fused candidates before reranking in the report. */
  includeCandidates?: boolean;
  /** Longest wait for the report, in ms. */
  timeoutMs: number;
  /** Interval between status polls, in ms. Default 500. */
  pollMs?: number;
}

export function reportFormatOf(out: string | undefined, format: ReportFormat | undefined): ReportFormat {
  if (format !== undefined) return format;
  if (out === undefined) return 'jsonl';
  const ext = extname(out).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  throw new CliError(
    `cannot tell the report format from ${out}: name it .jsonl or .csv, or pass --format`,
    2,
  );
}

export async function runBatch(
  ctx: CommandContext,
  file: string,
  options: BatchCommandOptions,
): Promise<number> {
  const format = reportFormatOf(options.out, options.format);
  const questions = await readQuestionsFile(file, options.questionsFormat);
  const filter = toFilter(options);
  const queryOptions = toQueryOptions(options);
  // Progress goes to stderr when the report itself goes to stdout.
  const progress = options.out === undefined ? ctx.term.stderr : ctx.term.stdout;
  return withBackend(ctx, async (backend) => {
    const { batchId } = await backend.enqueueBatch({
      tenant: ctx.tenant,
      name: options.name ?? basename(file),
      questions,
      ...(filter ? { filter } : {}),
      ...(queryOptions ? { options: queryOptions } : {}),
    });
    progress.write(
      `Batch ${batchId}: ${questions.length} questions for ${tenantLabel(ctx, backend)} on ${backend.target}\n`,
    );
    await warnWithoutWorkers(ctx, backend, QUEUES.query);

    const report: BatchReport = await followFlow({
      kind: 'batch',
      id: batchId,
      read: () => backend.getBatch(batchId),
      describe: (status) =>
        `${status.answered + status.failed}/${status.total} done · ${status.failed} failed`,
      progress,
      timeoutMs: options.timeoutMs,
      pollMs: options.pollMs,
      signal: ctx.signal,
    });
    const text =
      format === 'csv'
        ? batchReportToCsv(report, { formulas: options.csvFormulas ?? 'escape' })
        : batchReportToJsonl(report);
    await writeReport(ctx, options.out, text);
    progress.write(
      `${report.answered} answered, ${report.failed} failed${options.out === undefined ? '' : ` → ${options.out}`}\n`,
    );
    for (const item of report.items) {
      if (!item.ok)
        progress.write(`  question ${item.index + 1}${item.id ? ` (${item.id})` : ''}: ${item.error}\n`);
    }
    const cut = report.items.filter((item) => item.ok && item.contextTruncated !== undefined).length;
    if (cut > 0) {
      progress.write(
        `${cut} answer${cut === 1 ? '' : 's'} left passages out to fit the context budget (contextTruncated in the report; raise it with --context-tokens)\n`,
      );
    }
    return report.failed > 0 ? 1 : 0;
  });
}
