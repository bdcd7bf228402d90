/**
 * Ingest jobs with secrets: sealed by the producer, opened by the worker for each attempt, and
 * removed from the job once it has ended for good (retries need them until then).
 */

import type { IngestSecrets } from '@quire/contracts';
import type { Job, Worker } from 'bullmq';
import type {
  IngestJobData,
  IngestJobDataV2,
  IngestJobDataV3,
  IngestJobPayload,
  IngestOcr,
} from './schemas.js';
import {
  ingestSecretsContext,
  publicUrl,
  SecretKeyError,
  type SecretKeyring,
  urlHasSecrets,
} from './secrets.js';

/**
 * An ingest job as the pipeline takes it: secrets in clear, whether it is forced and its OCR
 * settings (both version 3).
 */
export type OpenedIngestJob = IngestJobData & { force?: boolean; ocr?: IngestOcr };

/**
 * The payload to store for `data`: unchanged (version 1) when it has no secret, else version 2
 * with the secrets sealed; version 3 (version 2 with `force` and `ocr`) when the job is forced or
 * sets OCR settings. Throws SecretKeyError when it has secrets and no keyring is given.
 */
export function sealIngestJob(data: OpenedIngestJob, keyring: SecretKeyring | null): IngestJobPayload {
  const { ocr, force, ...plain } = data;
  const payload = sealSecrets(plain, keyring);
  if (ocr === undefined && force !== true) return payload;
  // Version 3 carries its secrets as version 2 does: a version 1 payload simply has none.
  const { v: _v, ...fields } = payload as IngestJobDataV2 | IngestJobData;
  const { password: _none, ...v2Fields } = fields as typeof fields & { password?: string };
  return {
    ...v2Fields,
    v: 3,
    ...(force === true ? { force: true } : {}),
    ...(ocr === undefined ? {} : { ocr }),
  } satisfies IngestJobDataV3;
}

function sealSecrets(data: IngestJobData, keyring: SecretKeyring | null): IngestJobData | IngestJobDataV2 {
  const { password, ...rest } = data;
  const secrets: IngestSecrets = {};
  if (password !== undefined && password !== '') secrets.password = password;
  const source = data.source;
  if (source.kind === 'url' && urlHasSecrets(source.url)) secrets.url = source.url;
  if (Object.keys(secrets).length === 0) {
    // An empty password opens nothing: drop it rather than store it.
    return rest;
  }
  if (keyring === null) {
    throw new SecretKeyError(
      `${Object.keys(secrets).includes('password') ? 'a PDF password' : 'a URL with credentials or a query'} is never stored in clear: configure QUIRE_SECRET_KEYS (see "Secrets" in the README), or leave the secret out`,
    );
  }
  const sealed = keyring.seal(secrets, ingestSecretsContext(data.tenant, data.documentId));
  return {
    ...rest,
    v: 2,
    source: source.kind === 'url' ? { ...source, url: publicUrl(source.url) } : source,
    sealed,
  } satisfies IngestJobDataV2;
}

/**
 * The job as the pipeline takes it, secrets opened. Throws SecretKeyError when they cannot be:
 * no keyring, an unknown key id, or a box made for another job.
 */
export function openIngestJob(payload: IngestJobPayload, keyring: SecretKeyring | null): OpenedIngestJob {
  if (payload.v === 1) return payload;
  const { sealed, v: _v, ...fields } = payload;
  const { force, ocr, ...rest } = fields as typeof fields & { force?: boolean; ocr?: IngestOcr };
  const data: OpenedIngestJob = {
    ...rest,
    v: 1,
    ...(force === true ? { force } : {}),
    ...(ocr === undefined ? {} : { ocr }),
  };
  if (sealed === undefined) return data;
  if (keyring === null) {
    throw new SecretKeyError(
      `the job's secrets are sealed with key "${sealed.kid}" and this worker has no QUIRE_SECRET_KEYS`,
    );
  }
  const secrets = keyring.open(sealed, ingestSecretsContext(payload.tenant, payload.documentId));
  if (secrets.password !== undefined) data.password = secrets.password;
  if (secrets.url !== undefined && data.source.kind === 'url')
    data.source = { ...data.source, url: secrets.url };
  return data;
}

/** The job's data without its secrets: the sealed box, or a version 1 password and URL credentials. */
export function withoutSecrets(data: unknown): unknown {
  if (typeof data !== 'object' || data === null) return data;
  const record = data as Record<string, unknown>;
  if (!('sealed' in record) && !('password' in record) && !hasSecretUrl(record.source)) return data;
  const { sealed: _sealed, password: _password, ...rest } = record;
  const source = rest.source as { url?: unknown } | undefined;
  if (hasSecretUrl(source)) rest.source = { ...source, url: publicUrl(source?.url as string) };
  return rest;
}

function hasSecretUrl(source: unknown): boolean {
  if (typeof source !== 'object' || source === null) return false;
  const url = (source as { url?: unknown }).url;
  if (typeof url !== 'string') return false;
  try {
    return urlHasSecrets(url);
  } catch {
    return false;
  }
}

export interface ForgetSecretsOptions {
  /** Told when a job's secrets could not be removed (the job is kept; they stay sealed). */
  onError?: (error: unknown, job: Job) => void;
}

/**
 * Removes an ingest job's secrets when it has ended for good: completed, or failed with no
 * attempt left. A job gone already (retention) has nothing left to remove.
 */
export function forgetSecretsWhenDone(worker: Worker, options: ForgetSecretsOptions = {}): void {
  whenEndedForGood(
    worker,
    async (job) => {
      const stripped = withoutSecrets(job.data);
      if (stripped === job.data) return;
      try {
        await job.updateData(stripped);
      } catch (error) {
        if (error instanceof Error && /Missing key|does not exist/i.test(error.message)) return;
        throw error;
      }
    },
    options.onError,
  );
}

/**
 * Runs `handler` once a job of the worker has ended for good: completed, or failed with no attempt
 * left (a job failing with attempts left is retried and still needs what it carries). Errors of the
 * handler go to `onError`.
 */
export function whenEndedForGood(
  worker: Worker,
  handler: (job: Job) => Promise<void>,
  onError: ((error: unknown, job: Job) => void) | undefined,
): void {
  const run = (job: Job) => handler(job).catch((error: unknown) => onError?.(error, job));
  worker.on('completed', (job) => void run(job));
  worker.on('failed', (job) => {
    if (job === undefined) return;
    void job
      .getState()
      .then((state) => (state === 'failed' ? run(job) : undefined))
      .catch((error: unknown) => onError?.(error, job));
  });
}
