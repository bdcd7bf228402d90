/**
 * Per-document ordering for document jobs (ingest and delete), the producer's side: it takes a
 * sequence number per document (`INCR`) and puts it in the job; the worker holds a lease on the
 * document and skips a job whose number is below the last applied one, so two jobs for one
 * document never interleave and the one enqueued last wins. The keys are part of the contract.
 */
import { documentOrderKeys } from '@quire/contracts';
import type { Redis } from 'ioredis';

export { type DocumentOrderKeys, documentKey, documentOrderKeys } from '@quire/contracts';

/** Takes the next sequence number for a document (producer side). */
export async function nextDocumentSeq(redis: Redis, prefix: string, tenant: string, documentId: string) {
  return redis.incr(documentOrderKeys(prefix, tenant, documentId).seq);
}
