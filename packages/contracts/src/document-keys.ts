/**
 * Redis keys of per-document ordering, part of the queue contract: a producer in any language takes
 * a document's next sequence number with `INCR` on its `seq` key and puts it in the job (`seq`).
 * The keys live under the queue prefix so a Redis Cluster hash tag in it applies to them too.
 */

/** `tenant:base64url(documentId)`: the tenant is restricted to `[A-Za-z0-9_.-]`, the document id is free text. */
export function documentKey(tenant: string, documentId: string): string {
  const bytes = new TextEncoder().encode(documentId);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const base64url = btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
  return `${tenant}:${base64url}`;
}

export interface DocumentOrderKeys {
  /** The last sequence number taken by a producer (`INCR`). */
  seq: string;
  /** The highest sequence number a worker applied. */
  applied: string;
  /** The lease of the worker working on the document. */
  lease: string;
}

export function documentOrderKeys(prefix: string, tenant: string, documentId: string): DocumentOrderKeys {
  const doc = documentKey(tenant, documentId);
  return {
    seq: `${prefix}:doc:seq:${doc}`,
    applied: `${prefix}:doc:applied:${doc}`,
    lease: `${prefix}:doc:lease:${doc}`,
  };
}
