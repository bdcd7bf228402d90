import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobStatus } from '@quire/jobs';
import { makeTempDir } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../context.js';
import { applyStatus, exitCodeOf, newJob, readPassword } from './ingest.js';

const status = (state: JobStatus['state'], extra: Partial<JobStatus> = {}): JobStatus => ({
  id: '1',
  queue: 'ingest',
  name: 'ingest',
  state,
  tenant: 'acme',
  progress: null,
  result: null,
  failedReason: null,
  attemptsMade: 0,
  createdAt: 1_000,
  processedAt: null,
  finishedAt: null,
  ...extra,
});

describe('applyStatus', () => {
  it('follows the stages the worker reports', () => {
    const job = newJob('guide.pdf', 'guide.pdf');
    applyStatus(job, status('active', { progress: { stage: 'embedding', chunks: 40, chunksEmbedded: 20 } }));
    expect(job.state).toBe('active');
    expect(job.progress.detail).toBe('embedding 20/40 chunks');
    expect(job.progress.fraction).toBeCloseTo(0.25 + 0.65 / 2);
    applyStatus(job, status('active', { progress: { stage: 'storing' } }));
    expect(job.progress).toMatchObject({ stage: 'storing', fraction: 0.9 });
  });

  it('reads the result of a completed ingestion', () => {
    const job = newJob('guide.pdf', 'guide.pdf');
    const result = {
      v: 1,
      tenant: 'acme',
      documentId: 'guide.pdf',
      outcome: 'ingested',
      version: 'v1',
      sourceName: 'guide.pdf',
      kind: 'pdf',
      pages: 3,
      chunks: 12,
      chunksEmbedded: 12,
      tokens: 900,
      timingsMs: {},
    };
    applyStatus(job, status('completed', { result, processedAt: 2_000, finishedAt: 2_750 }));
    expect(job).toMatchObject({
      state: 'completed',
      outcome: 'ingested',
      pages: 3,
      chunks: 12,
      durationMs: 750,
    });
    expect(job.progress.detail).toBe('ingested · 12 chunks · 3 pages');
    expect(exitCodeOf([job])).toBe(0);
  });

  it('reads the result of a deletion', () => {
    const job = newJob('guide.pdf', 'guide.pdf');
    applyStatus(
      job,
      status('completed', { result: { v: 1, tenant: 'acme', documentId: 'guide.pdf', outcome: 'deleted' } }),
    );
    expect(job.outcome).toBe('deleted');
  });

  it('keeps the reason of a failure, and says when a job vanished', () => {
    const failed = newJob('broken.pdf', 'broken.pdf');
    applyStatus(failed, status('failed', { failedReason: 'broken.pdf: not a PDF' }));
    expect(failed).toMatchObject({ state: 'failed', error: 'broken.pdf: not a PDF' });
    const gone = newJob('old.pdf', 'old.pdf');
    applyStatus(gone, null);
    expect(gone.error).toMatch(/no longer exists/);
    expect(exitCodeOf([failed])).toBe(1);
  });

  it('shows a retry waiting for its backoff', () => {
    const job = newJob('a.md', 'a.md');
    applyStatus(job, status('delayed', { attemptsMade: 2 }));
    expect(job).toMatchObject({ state: 'queued', progress: { detail: 'retrying after attempt 2' } });
  });
});

describe('readPassword', () => {
  it("reads --password, or --password-file's first line without its line end", async () => {
    const tmp = await makeTempDir('cli-password');
    try {
      const ctx = { cwd: tmp.path } as CommandContext;
      await writeFile(join(tmp.path, 'pw'), 'pässwort ünïcode\r\nignored\n');
      expect(await readPassword(ctx, { passwordFile: 'pw' })).toBe('pässwort ünïcode');
      expect(await readPassword(ctx, { password: 'typed' })).toBe('typed');
      expect(await readPassword(ctx, {})).toBeUndefined();
    } finally {
      await tmp.cleanup();
    }
  });

  it('refuses both options, an empty password and an unreadable file, never showing the password', async () => {
    const ctx = { cwd: '/' } as CommandContext;
    await expect(readPassword(ctx, { password: 'hunter2', passwordFile: 'x' })).rejects.toThrow(/not both/);
    await expect(readPassword(ctx, { password: '' })).rejects.toThrow(/empty/);
    const error = await readPassword(ctx, { passwordFile: '/nonexistent/pw' }).catch((e: Error) => e);
    expect(String(error)).toContain('--password-file /nonexistent/pw: cannot read it (ENOENT)');
  });
});
