/** Eval reports as Markdown (for people), CSV (one row per question) and JSON. */
import type { EvalReport } from '@quire/contracts';
import { stringify } from 'csv-stringify/sync';
import { type CsvFormulas, escapeFormula } from './batch-export.js';

const MODES = ['lexical', 'dense', 'fused', 'reranked'] as const;
const MODE_LABELS: Record<(typeof MODES)[number], string> = {
  lexical: 'lexical only',
  dense: 'dense only',
  fused: 'fused',
  reranked: 'fused + rerank',
};
const STAGES = ['embed', 'lexical', 'dense', 'fuse', 'rerank', 'generate'] as const;

function pct(value: number | null): string {
  return value === null ? '–' : `${(value * 100).toFixed(1)} %`;
}

function ms(value: number): string {
  return value.toFixed(value < 10 ? 2 : 1);
}

/**
 * The report as Markdown: settings, retrieval figures per stage side by side, answer figures,
 * latency per stage and failed questions. Per-question rows are in the CSV and JSON exports.
 */
export function evalReportToMarkdown(report: EvalReport): string {
  const lines: string[] = [];
  lines.push(`# Eval ${report.name ?? report.evalId}`, '');
  lines.push(
    `Tenant \`${report.tenant}\` · ${report.total} questions (${report.answerable} answerable, ` +
      `${report.unanswerable} unanswerable, ${report.failed} failed) · candidates ${report.settings.candidates} · ` +
      `topN ${report.settings.topN} · context ${report.settings.contextTokens} tokens`,
    '',
  );
  if (report.documents.ingested > 0 || report.documents.failed.length > 0) {
    lines.push(
      `Corpus: ${report.documents.ingested} documents ingested, ${report.documents.failed.length} failed` +
        `${report.documents.cleanedUp ? ', deleted after the run' : ''}.`,
      '',
    );
  }
  lines.push('## Retrieval (mean over answerable questions)', '');
  lines.push(
    '| stage | R@1 | R@5 | R@10 | R@20 | MRR@10 | nDCG@10 |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const mode of MODES) {
    const m = report.retrieval[mode];
    lines.push(
      `| ${MODE_LABELS[mode]} | ${pct(m.recallAt1)} | ${pct(m.recallAt5)} | ${pct(m.recallAt10)} | ` +
        `${pct(m.recallAt20)} | ${m.mrrAt10.toFixed(3)} | ${m.ndcgAt10.toFixed(3)} |`,
    );
  }
  lines.push('');
  if (report.answers !== null) {
    const a = report.answers;
    lines.push(
      '## Answers',
      '',
      '| questions | n | answer containment | not found |',
      '| --- | --- | --- | --- |',
    );
    lines.push(
      `| answerable | ${a.answerable.questions} | ${pct(a.answerable.containment)} | ${pct(a.answerable.notFoundRate)} |`,
    );
    lines.push(
      `| answerable, gold passage reranked first | ${a.goldFirst.questions} | ${pct(a.goldFirst.containment)} | ${pct(a.goldFirst.notFoundRate)} |`,
    );
    lines.push(
      `| unanswerable | ${a.unanswerable.questions} | – | ${pct(a.unanswerable.notFoundRate)} |`,
      '',
    );
  }
  lines.push('## Latency per question (ms)', '', '| stage | mean | p50 | p95 |', '| --- | --- | --- | --- |');
  for (const stage of STAGES) {
    const l = report.latencyMs[stage];
    lines.push(`| ${stage} | ${ms(l.mean)} | ${ms(l.p50)} | ${ms(l.p95)} |`);
  }
  lines.push('');
  const failed = report.queries.filter((q) => !q.ok);
  if (failed.length > 0) {
    lines.push('## Failed questions', '');
    for (const q of failed)
      if (!q.ok) lines.push(`- ${q.id ?? `#${q.index}`}: ${q.error.replace(/\s+/g, ' ')}`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

export const EVAL_CSV_COLUMNS = [
  'index',
  'id',
  'question',
  'ok',
  'relevant',
  ...MODES.map((m) => `rank_${m}`),
  ...MODES.map((m) => `ndcg10_${m}`),
  'reranked',
  'answer',
  'not_found',
  'contained',
  'context_tokens',
  'dropped_by_budget',
  ...STAGES.map((s) => `${s}_ms`),
  'error',
] as const;

/**
 * One row per question with a header row (see {@link EVAL_CSV_COLUMNS}): the first relevant
 * document's rank in each stage (empty: not retrieved), nDCG@10 per stage, the answer and whether
 * it contains a gold string, and the stage timings. Text cells that would start a spreadsheet
 * formula are escaped unless `formulas: 'keep'`.
 */
export function evalReportToCsv(report: EvalReport, options: { formulas?: CsvFormulas } = {}): string {
  const text = options.formulas === 'keep' ? (value: string) => value : escapeFormula;
  const bool = (value: boolean | null) => (value === null ? '' : String(value));
  const rows = report.queries.map((q) => {
    const head = [q.index, text(q.id ?? ''), text(q.question), String(q.ok), text(q.relevant.join(' '))];
    if (!q.ok)
      return [...head, ...new Array(EVAL_CSV_COLUMNS.length - head.length - 1).fill(''), text(q.error)];
    return [
      ...head,
      ...MODES.map((m) => q.firstRelevantRank[m] ?? ''),
      ...MODES.map((m) => q.ndcgAt10[m].toFixed(4)),
      String(q.reranked),
      text(q.answer ?? ''),
      bool(q.notFound),
      bool(q.contained),
      q.contextTokens ?? '',
      q.droppedByBudget ?? '',
      ...STAGES.map((s) => q.timingsMs[s]),
      '',
    ];
  });
  return stringify([[...EVAL_CSV_COLUMNS], ...rows], { quoted_string: true });
}

/** The whole report as indented JSON. */
export function evalReportToJson(report: EvalReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
