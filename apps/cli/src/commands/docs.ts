/** `quire docs list` and `quire docs delete <id…>`. */
import { type CommandContext, tenantLabel, withBackend } from '../context.js';
import { errorMessage } from '../errors.js';
import { renderTable } from '../format.js';
import { exitCodeOf, followDocumentJobs, newJob, warnWithoutWorkers } from './ingest.js';

export async function runDocsList(ctx: CommandContext, options: { json: boolean }): Promise<number> {
  return withBackend(ctx, async (backend) => {
    const documents = await backend.listDocuments(ctx.tenant);
    if (options.json) {
      ctx.term.stdout.write(`${JSON.stringify({ tenant: ctx.tenant, documents }, null, 2)}\n`);
      return 0;
    }
    if (documents.length === 0) {
      ctx.term.stdout.write(`No documents for ${tenantLabel(ctx, backend)}.\n`);
      return 0;
    }
    const rows = documents.map((doc) => {
      const latest = doc.versions.at(-1);
      return [
        doc.documentId,
        doc.sourceName,
        String(doc.chunks),
        doc.versions.length > 1 ? `${doc.versions.length} (re-ingest in flight)` : '1',
        latest ? latest.ingestedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-',
      ];
    });
    ctx.term.stdout.write(
      `${renderTable(['DOCUMENT', 'SOURCE', 'CHUNKS', 'VERSIONS', 'INGESTED'], rows, { right: [2] })}\n`,
    );
    ctx.term.stdout.write(
      `${documents.length} document${documents.length === 1 ? '' : 's'} for ${tenantLabel(ctx, backend)}\n`,
    );
    return 0;
  });
}

export interface DocsDeleteOptions {
  wait: boolean;
  json: boolean;
  timeoutMs: number;
  pollMs?: number;
}

export async function runDocsDelete(
  ctx: CommandContext,
  documentIds: readonly string[],
  options: DocsDeleteOptions,
): Promise<number> {
  return withBackend(ctx, async (backend) => {
    const jobs = [];
    for (const documentId of documentIds) {
      const job = newJob(documentId, documentId);
      try {
        job.jobId = (await backend.enqueueDelete({ tenant: ctx.tenant, documentId })).jobId;
      } catch (error) {
        job.state = 'refused';
        job.error = errorMessage(error);
      }
      jobs.push(job);
    }
    if (options.wait) {
      await warnWithoutWorkers(ctx, backend);
      await followDocumentJobs(ctx, backend, jobs, {
        timeoutMs: options.timeoutMs,
        pollMs: options.pollMs ?? 250,
        live: false,
      });
    }
    if (options.json) {
      ctx.term.stdout.write(
        `${JSON.stringify(
          {
            tenant: ctx.tenant,
            documents: jobs.map((j) => ({
              documentId: j.documentId,
              jobId: j.jobId,
              state: j.state,
              outcome: j.outcome,
              error: j.error,
            })),
          },
          null,
          2,
        )}\n`,
      );
    } else {
      for (const job of jobs) {
        const what = job.error
          ? ctx.term.colors.red(`failed: ${job.error}`)
          : options.wait
            ? (job.outcome ?? job.state)
            : `delete queued (job ${job.jobId})`;
        ctx.term.stdout.write(`${job.documentId}: ${what}\n`);
      }
    }
    return exitCodeOf(jobs);
  });
}
