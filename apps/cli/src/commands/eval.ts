/**
 * `quire eval <set-dir>`: measures retrieval and answers on a BEIR-style set. The corpus is
 * ingested into a tenant of its own (or the one named), every question runs on the workers through
 * each retrieval stage, and the report compares them (Markdown on stdout, or a file by extension:
 * .md, .json, .csv with one row per question).
 */
import { randomUUID } from 'node:crypto';
import { basename, extname } from 'node:path';
import {
  type CsvFormulas,
  type EvalInput,
  type EvalReport,
  estimateEvalTokens,
  evalReportToCsv,
  evalReportToJson,
  evalReportToMarkdown,
  QUEUES,
} from '@quire/jobs';
import type { Backend } from '../backend/types.js';
import { readBeirSet } from '../beir.js';
import { type CommandContext, withBackend } from '../context.js';
import { CliError } from '../errors.js';
import { followFlow, writeReport } from '../follow.js';
import { warnWithoutWorkers } from './ingest.js';

export type EvalReportFormat = 'markdown' | 'json' | 'csv';

export interface EvalCommandOptions {
  /** Ingest the set's corpus.jsonl (default) or search the tenant's documents as they are. */
  corpus: boolean;
  /** The qrels file: `qrels/<split>.tsv`. */
  split: string;
  /**
   * Tenant searched. Default: with a corpus, a new tenant `eval-<id>` of its own; without one, the
   * global `--tenant`.
   */
  evalTenant?: string;
  cleanup: boolean;
  answers: boolean;
  includePassages: boolean;
  includeCandidates: boolean;
  candidates?: number;
  topN?: number;
  contextTokens?: number;
  /** Refuse the eval when its token estimate is above this; required with a model API. */
  maxTokens?: number;
  name?: string;
  out?: string;
  format?: EvalReportFormat;
  csvFormulas?: CsvFormulas;
  timeoutMs: number;
  pollMs?: number;
}

export function evalFormatOf(
  out: string | undefined,
  format: EvalReportFormat | undefined,
): EvalReportFormat {
  if (format !== undefined) return format;
  if (out === undefined) return 'markdown';
  const ext = extname(out).toLowerCase();
  if (ext === '.md' || ext === '.markdown') return 'markdown';
  if (ext === '.json') return 'json';
  if (ext === '.csv') return 'csv';
  throw new CliError(
    `cannot tell the report format from ${out}: name it .md, .json or .csv, or pass --format`,
    2,
  );
}

/**
 * Whether the workers may call a paid model API, as far as this command can tell: behind a gateway
 * it cannot, so it assumes they may; on Redis, the shared configuration says.
 */
function usesModelApi(ctx: CommandContext, backend: Backend): boolean {
  if (backend.tenantFromKey) return true;
  try {
    return ctx.config().models.kind !== 'builtin';
  } catch {
    return true;
  }
}

export async function runEval(
  ctx: CommandContext,
  dir: string,
  options: EvalCommandOptions,
): Promise<number> {
  const format = evalFormatOf(options.out, options.format);
  const set = await readBeirSet(dir, { split: options.split, corpus: options.corpus });
  const evalId = randomUUID();
  const tenant = options.evalTenant ?? (options.corpus ? `eval-${evalId.slice(0, 8)}` : ctx.tenant);
  const input: EvalInput = {
    tenant,
    name: options.name ?? basename(dir),
    ...set,
    options: {
      ...(options.candidates !== undefined ? { candidates: options.candidates } : {}),
      ...(options.topN !== undefined ? { topN: options.topN } : {}),
      ...(options.contextTokens !== undefined ? { contextTokens: options.contextTokens } : {}),
      answers: options.answers,
      include: { passages: options.includePassages, candidates: options.includeCandidates },
    },
    cleanup: options.cleanup,
  };
  const progress = options.out === undefined ? ctx.term.stderr : ctx.term.stdout;
  const estimate = estimateEvalTokens(input);
  progress.write(
    `Eval ${evalId}: ${set.queries.length} questions, ${set.corpus?.length ?? 0} documents, tenant ${tenant}\n` +
      `Token estimate: ~${estimate.total.toLocaleString('en')} (embedding ${estimate.embedding.toLocaleString('en')}, ` +
      `rerank ${estimate.rerank.toLocaleString('en')}, chat ${estimate.chat.toLocaleString('en')})\n`,
  );
  if (options.maxTokens !== undefined && estimate.total > options.maxTokens) {
    throw new CliError(
      `the token estimate (${estimate.total}) is above --max-tokens ${options.maxTokens}`,
      2,
    );
  }

  return withBackend(ctx, async (backend) => {
    if (options.maxTokens === undefined && usesModelApi(ctx, backend)) {
      throw new CliError(
        'the workers may use a paid model API: pass --max-tokens with the most tokens this eval may spend (see the estimate above)',
        2,
      );
    }
    const { evalId: id } = await backend.enqueueEval(
      { ...input },
      options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens },
    );
    await warnWithoutWorkers(ctx, backend, QUEUES.query);
    const report: EvalReport = await followFlow({
      kind: 'eval',
      id,
      read: () => backend.getEval(id),
      describe: (status) =>
        status.step === 'ingest'
          ? `ingesting ${status.documentsDone}/${status.documents} documents`
          : `${status.questionsDone}/${status.questions} questions`,
      progress,
      timeoutMs: options.timeoutMs,
      pollMs: options.pollMs,
      signal: ctx.signal,
    });
    const text =
      format === 'csv'
        ? evalReportToCsv(report, { formulas: options.csvFormulas ?? 'escape' })
        : format === 'json'
          ? evalReportToJson(report)
          : evalReportToMarkdown(report);
    await writeReport(ctx, options.out, text);
    const r = report.retrieval;
    progress.write(
      `R@1 lexical ${pct(r.lexical.recallAt1)} · dense ${pct(r.dense.recallAt1)} · fused ${pct(r.fused.recallAt1)} · ` +
        `fused+rerank ${pct(r.reranked.recallAt1)}; ${report.failed} failed` +
        `${options.out === undefined ? '' : ` → ${options.out}`}\n`,
    );
    return report.failed > 0 ? 1 : 0;
  });
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1)} %`;
}
