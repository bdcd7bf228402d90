/**
 * Ingest and delete jobs started from this page, followed until they end: the documents view and
 * the upload list show their stage and outcome. Polled, because an event stream cannot carry an
 * Authorization header from a browser.
 */
import { request } from './api.js';
import type { IngestProgress, IngestResult, JobStatus } from './types.js';

export interface TrackedJob {
  jobId: string;
  documentId: string;
  kind: 'ingest' | 'delete' | 'retry';
  state: string;
  progress: IngestProgress | null;
  result: IngestResult | null;
  failedReason: string | null;
  /** Set when the job's status could not be read. */
  error: string | null;
}

const POLL_MS = 1_000;
const tracked = new Map<string, TrackedJob>();
const listeners = new Set<() => void>();
let timer: number | undefined;

export function track(jobId: string, documentId: string, kind: TrackedJob['kind']): TrackedJob {
  const job: TrackedJob = {
    jobId,
    documentId,
    kind,
    state: 'waiting',
    progress: null,
    result: null,
    failedReason: null,
    error: null,
  };
  tracked.set(jobId, job);
  changed();
  schedule();
  return job;
}

export function trackedJobs(): TrackedJob[] {
  return [...tracked.values()];
}

export function finished(job: TrackedJob): boolean {
  return job.state === 'completed' || job.state === 'failed';
}

export function onJobsChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function forgetJobs(): void {
  tracked.clear();
  changed();
}

function changed(): void {
  for (const listener of listeners) listener();
}

function schedule(): void {
  if (timer !== undefined) return;
  timer = window.setTimeout(() => {
    timer = undefined;
    void poll();
  }, POLL_MS);
}

async function poll(): Promise<void> {
  const open = [...tracked.values()].filter((job) => !finished(job));
  if (open.length === 0) return;
  await Promise.all(
    open.map(async (job) => {
      try {
        const status = await request<JobStatus>('GET', `v1/jobs/ingest/${encodeURIComponent(job.jobId)}`);
        job.state = status.state;
        job.progress = typeof status.progress === 'object' ? status.progress : null;
        job.result = status.state === 'completed' ? (status.result as IngestResult) : null;
        job.failedReason = status.failedReason;
        job.error = null;
      } catch (error) {
        job.error = error instanceof Error ? error.message : String(error);
      }
    }),
  );
  changed();
  if ([...tracked.values()].some((job) => !finished(job))) schedule();
}

/** One line on where a job is: "embedding 12/40 chunks", "ingested · 3 pages · 12 chunks". */
export function describeJob(job: TrackedJob): string {
  if (job.state === 'failed') return `failed: ${job.failedReason ?? 'no reason given'}`;
  if (job.state === 'completed') {
    if (job.kind === 'delete') return 'deleted';
    const r = job.result;
    if (r === null) return 'done';
    const parts = [r.outcome];
    if (r.pages !== null) parts.push(`${r.pages} page${r.pages === 1 ? '' : 's'}`);
    parts.push(`${r.chunks} chunk${r.chunks === 1 ? '' : 's'}`);
    if (r.duplicateOf && r.duplicateOf.length > 0) parts.push(`same content as ${r.duplicateOf.join(', ')}`);
    return parts.join(' · ');
  }
  const p = job.progress;
  if (p?.stage === 'embedding' && p.chunks) return `embedding ${p.chunksEmbedded ?? 0}/${p.chunks} chunks`;
  if (p?.stage) return p.stage.replaceAll('-', ' ');
  return job.state === 'active' ? 'working' : 'queued';
}
