/** `quire ingest <paths or URLs…>`: queue documents, and with `--wait` follow them to the end. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Metadata } from '@quire/core';
import {
  DeleteResultSchema,
  describeZodError,
  type IngestOcr,
  IngestProgressSchema,
  IngestResultSchema,
  type JobStatus,
  MetadataSchema,
  QUEUES,
} from '@quire/jobs';
import type { Backend, SentAs } from '../backend/types.js';
import { type CommandContext, tenantLabel, withBackend } from '../context.js';
import { CliError, errorMessage } from '../errors.js';
import { formatDuration, renderTable } from '../format.js';
import { expandInputs, type IngestInput } from '../inputs.js';
import { pause } from '../poll.js';
import { createProgressView, type ProgressRow } from '../progress.js';

export interface IngestCommandOptions {
  wait: boolean;
  json: boolean;
  metadata: Metadata;
  /** The id of the only document. */
  id?: string;
  /** Prepended to every document id. */
  idPrefix?: string;
  /** OCR settings of these documents (`--ocr`, `--ocr-langs`), over the workers' own. */
  ocr?: IngestOcr;
  /** Longest wait with `--wait`, in ms. */
  timeoutMs: number;
  /** Interval between status polls, in ms. Default 250. */
  pollMs?: number;
  /** Password of the encrypted PDFs (`--password`). Never printed. */
  password?: string;
  /** File whose first line is the password (`--password-file`; `-`: standard input). */
  passwordFile?: string;
  /** Ingest again even when the version is stored (`--force`). */
  force?: boolean;
}

/** One document's way through the command: queued (or refused), then followed. */
export interface DocumentJob {
  label: string;
  documentId: string;
  /** How the document was sent, when it was. */
  sentAs: SentAs | null;
  jobId: string | null;
  state: 'refused' | 'queued' | 'active' | 'completed' | 'failed' | 'unfinished';
  progress: { stage: string; fraction: number; detail: string };
  outcome: string | null;
  pages: number | null;
  chunks: number | null;
  durationMs: number | null;
  error: string | null;
}

export async function runIngest(
  ctx: CommandContext,
  args: readonly string[],
  options: IngestCommandOptions,
): Promise<number> {
  checkMetadata('--metadata', options.metadata);
  const password = await readPassword(ctx, options);
  const submit = {
    ...(password !== undefined ? { password } : {}),
    force: options.force === true,
    ...(options.ocr !== undefined ? { ocr: options.ocr } : {}),
  };
  const inputs = await expandInputs(args, {
    cwd: ctx.cwd,
    signal: ctx.signal,
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(options.idPrefix !== undefined ? { idPrefix: options.idPrefix } : {}),
  });
  return withBackend(ctx, async (backend) => {
    const jobs: DocumentJob[] = [];
    for (const input of inputs) {
      jobs.push(await enqueueOne(backend, ctx, input, options.metadata, submit));
    }
    const queued = jobs.filter((job) => job.jobId !== null).length;
    if (!options.json) {
      ctx.term.stdout.write(
        `Queued ${queued} of ${jobs.length} document${jobs.length === 1 ? '' : 's'} for ${tenantLabel(ctx, backend)} on ${backend.target}\n`,
      );
    }
    if (options.wait && queued > 0) {
      await warnWithoutWorkers(ctx, backend);
      await followDocumentJobs(ctx, backend, jobs, {
        timeoutMs: options.timeoutMs,
        pollMs: options.pollMs ?? 250,
        live: !options.json,
      });
    }
    if (options.json) {
      ctx.term.stdout.write(
        `${JSON.stringify({ tenant: ctx.tenant, documents: jobs.map(jsonView) }, null, 2)}\n`,
      );
    } else {
      ctx.term.stdout.write(`\n${summaryTable(jobs, options.wait)}\n`);
      const failures = jobs.filter((job) => job.error !== null && job.state !== 'unfinished');
      if (failures.length > 0) {
        ctx.term.stdout.write(`\n${ctx.term.colors.red('Failures')}\n`);
        for (const job of failures) ctx.term.stdout.write(`  ${job.label}: ${job.error}\n`);
      }
      const left = jobs.filter((job) => job.state === 'unfinished');
      if (left.length > 0) {
        ctx.term.stdout.write(
          `\n${ctx.term.colors.yellow('Still running')} (follow with \`quire status\`)\n`,
        );
        for (const job of left) ctx.term.stdout.write(`  ${job.label}: ${job.error}\n`);
      }
      if (!options.wait && queued > 0) {
        ctx.term.stdout.write(
          `\nThe workers take it from here; follow with \`quire status\` or add --wait.\n`,
        );
      }
    }
    return exitCodeOf(jobs);
  });
}

async function enqueueOne(
  backend: Backend,
  ctx: CommandContext,
  input: IngestInput,
  metadata: Metadata,
  extra: { password?: string; force: boolean; ocr?: IngestOcr } = { force: false },
): Promise<DocumentJob> {
  const job = newJob(input.name, input.documentId);
  try {
    const { jobId, sentAs } = await backend.submitDocument({
      tenant: ctx.tenant,
      documentId: input.documentId,
      input,
      ...(extra.password !== undefined ? { password: extra.password } : {}),
      ...(extra.force ? { force: true } : {}),
      ...(input.kind === 'file' ? { sourceName: input.name } : {}),
      ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
      ...(extra.ocr !== undefined ? { ocr: extra.ocr } : {}),
    });
    return { ...job, sentAs, jobId };
  } catch (error) {
    return refuse(job, errorMessage(error));
  }
}

/**
 * The PDF password of `--password` or `--password-file` (its first line, without the line end; `-`
 * reads standard input). Errors name the option and the file, never the password.
 */
export async function readPassword(
  ctx: CommandContext,
  options: Pick<IngestCommandOptions, 'password' | 'passwordFile'>,
): Promise<string | undefined> {
  if (options.password !== undefined && options.passwordFile !== undefined) {
    throw new CliError('give the password with --password or --password-file, not both', 2);
  }
  let password = options.password;
  if (options.passwordFile !== undefined) {
    const path = options.passwordFile;
    let text: string;
    try {
      text = path === '-' ? await readStream(process.stdin) : await readFile(resolve(ctx.cwd, path), 'utf8');
    } catch (error) {
      throw new CliError(
        `--password-file ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        2,
      );
    }
    password = text.split(/\r?\n/, 1)[0] ?? '';
  }
  if (password === undefined) return undefined;
  if (password === '') throw new CliError('the PDF password is empty', 2);
  if (password.length > 1024) throw new CliError('the PDF password is longer than 1024 characters', 2);
  return password;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

export function newJob(label: string, documentId: string): DocumentJob {
  return {
    label,
    documentId,
    sentAs: null,
    jobId: null,
    state: 'queued',
    progress: { stage: 'waiting', fraction: 0, detail: 'waiting' },
    outcome: null,
    pages: null,
    chunks: null,
    durationMs: null,
    error: null,
  };
}

function refuse(job: DocumentJob, error: string): DocumentJob {
  return { ...job, state: 'refused', error, progress: { stage: 'refused', fraction: 0, detail: error } };
}

/** Tells the user early when nothing will ever pick the jobs up. */
export async function warnWithoutWorkers(
  ctx: CommandContext,
  backend: Backend,
  queue: (typeof QUEUES)[keyof typeof QUEUES] = QUEUES.ingest,
): Promise<void> {
  if ((await backend.workerCount(queue)) !== 0) return;
  ctx.term.stderr.write(
    `${ctx.term.colors.yellow('warning:')} no worker is listening on queue "${queue}" of ${backend.target}; start the workers (e.g. \`quire dev\`) or check --prefix/--redis-url. Waiting anyway.\n`,
  );
}

export interface FollowOptions {
  timeoutMs: number;
  pollMs: number;
  /** Show progress (bars or lines); off for `--json`. */
  live: boolean;
}

/** Polls the queued jobs until each has finished, the time is up, or the user interrupts. */
export async function followDocumentJobs(
  ctx: CommandContext,
  backend: Backend,
  jobs: DocumentJob[],
  options: FollowOptions,
): Promise<void> {
  const view = options.live ? createProgressView(ctx.term) : undefined;
  const deadline = Date.now() + options.timeoutMs;
  const open = () =>
    jobs.filter((job) => job.jobId !== null && (job.state === 'queued' || job.state === 'active'));
  try {
    while (open().length > 0) {
      const pending = open();
      const statuses = await Promise.all(pending.map((job) => backend.getDocumentJob(job.jobId!)));
      pending.forEach((job, i) => {
        applyStatus(job, statuses[i] ?? null);
      });
      view?.update(jobs.map(toRow));
      if (open().length === 0) break;
      if (Date.now() >= deadline) {
        for (const job of open()) {
          job.state = 'unfinished';
          job.error = `still ${job.progress.stage} after ${formatDuration(options.timeoutMs)}; job ${job.jobId} goes on`;
        }
        break;
      }
      if (!(await pause(options.pollMs, ctx.signal))) {
        for (const job of open()) {
          job.state = 'unfinished';
          job.error = `stopped waiting; job ${job.jobId} goes on`;
        }
        break;
      }
    }
  } finally {
    view?.finish(jobs.map(toRow));
  }
}

const STAGE_FRACTION: Record<string, number> = {
  'waiting-for-document': 0.02,
  loading: 0.1,
  chunking: 0.2,
  embedding: 0.25,
  storing: 0.9,
  cleanup: 0.95,
  done: 1,
};

/** Updates `job` from its queue status. */
export function applyStatus(job: DocumentJob, status: JobStatus | null): void {
  if (status === null) {
    job.state = 'failed';
    job.error = 'the job no longer exists (removed by job retention, or by hand)';
    return;
  }
  if (status.processedAt !== null && status.finishedAt !== null)
    job.durationMs = status.finishedAt - status.processedAt;
  switch (status.state) {
    case 'completed':
      complete(job, status);
      return;
    case 'failed':
      job.state = 'failed';
      job.error = status.failedReason ?? 'failed without a reason';
      job.progress = { stage: 'failed', fraction: job.progress.fraction, detail: job.error };
      return;
    case 'active': {
      job.state = 'active';
      job.progress = describeProgress(status.progress);
      return;
    }
    case 'delayed':
      job.state = 'queued';
      job.progress = {
        stage: 'retrying',
        fraction: 0,
        detail: status.attemptsMade > 0 ? `retrying after attempt ${status.attemptsMade}` : 'delayed',
      };
      return;
    default:
      job.state = 'queued';
      job.progress = { stage: 'waiting', fraction: 0, detail: 'waiting' };
  }
}

function complete(job: DocumentJob, status: JobStatus): void {
  job.state = 'completed';
  const ingest = IngestResultSchema.safeParse(status.result);
  if (ingest.success) {
    const r = ingest.data;
    job.outcome = r.outcome;
    job.pages = r.pages;
    job.chunks = r.chunks;
    const parts = [r.outcome, `${r.chunks} chunk${r.chunks === 1 ? '' : 's'}`];
    if (r.pages !== null) parts.push(`${r.pages} page${r.pages === 1 ? '' : 's'}`);
    job.progress = { stage: 'done', fraction: 1, detail: parts.join(' · ') };
    return;
  }
  const deleted = DeleteResultSchema.safeParse(status.result);
  if (deleted.success) {
    job.outcome = deleted.data.outcome;
    job.progress = { stage: 'done', fraction: 1, detail: deleted.data.outcome };
    return;
  }
  job.outcome = 'completed';
  job.progress = { stage: 'done', fraction: 1, detail: 'completed' };
}

function describeProgress(progress: unknown): DocumentJob['progress'] {
  const parsed = IngestProgressSchema.safeParse(progress);
  if (!parsed.success) return { stage: 'active', fraction: 0.05, detail: 'started' };
  const p = parsed.data;
  let fraction = STAGE_FRACTION[p.stage] ?? 0.05;
  let detail: string = p.stage;
  if (p.stage === 'embedding' && p.chunks !== undefined && p.chunks > 0) {
    const done = p.chunksEmbedded ?? 0;
    fraction = 0.25 + 0.65 * Math.min(1, done / p.chunks);
    detail = `embedding ${done}/${p.chunks} chunks`;
  } else if (p.stage === 'loading' && p.ocrPages !== undefined && p.ocrPages > 0) {
    // A scan: OCR takes most of the time, page by page.
    const done = p.ocrPagesDone ?? 0;
    fraction = 0.05 + 0.15 * Math.min(1, done / p.ocrPages);
    detail = `OCR page ${done}/${p.ocrPages}`;
  } else if (p.stage === 'loading' && p.pages) {
    detail = `loading ${p.pages} pages`;
  }
  return { stage: p.stage, fraction, detail };
}

function toRow(job: DocumentJob): ProgressRow {
  const state =
    job.state === 'completed'
      ? 'done'
      : job.state === 'unfinished'
        ? 'left'
        : job.state === 'failed' || job.state === 'refused'
          ? 'failed'
          : job.state;
  return {
    label: job.label,
    state,
    fraction: job.progress.fraction,
    detail: job.error ?? job.progress.detail,
  };
}

function summaryTable(jobs: readonly DocumentJob[], waited: boolean): string {
  const dash = '-';
  if (!waited) {
    return renderTable(
      ['DOCUMENT', 'SENT AS', 'JOB'],
      jobs.map((job) => [job.documentId, job.sentAs ?? dash, job.jobId ?? 'refused']),
    );
  }
  return renderTable(
    ['DOCUMENT', 'SENT AS', 'RESULT', 'PAGES', 'CHUNKS', 'TIME'],
    jobs.map((job) => [
      job.documentId,
      job.sentAs ?? dash,
      job.outcome ?? job.state,
      job.pages === null ? dash : String(job.pages),
      job.chunks === null ? dash : String(job.chunks),
      job.durationMs === null ? dash : formatDuration(job.durationMs),
    ]),
    { right: [3, 4, 5] },
  );
}

function jsonView(job: DocumentJob) {
  return {
    documentId: job.documentId,
    name: job.label,
    sentAs: job.sentAs,
    jobId: job.jobId,
    state: job.state,
    outcome: job.outcome,
    pages: job.pages,
    chunks: job.chunks,
    durationMs: job.durationMs,
    error: job.error,
  };
}

/** Checks `key=value` flags with the shared metadata rules; a usage error names the flag. */
export function checkMetadata(flag: string, metadata: Metadata): void {
  const checked = MetadataSchema.safeParse(metadata);
  if (!checked.success) throw new CliError(`${flag}: ${describeZodError(checked.error)}`, 2);
}

/** 0 when every document was queued (and, when followed, finished well); 1 otherwise. */
export function exitCodeOf(jobs: readonly DocumentJob[]): number {
  return jobs.some((job) => job.error !== null) ? 1 : 0;
}
