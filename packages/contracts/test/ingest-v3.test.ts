/** Version 3 of the ingest payload (`force`), beside the versions the fixtures cover. */
import { describe, expect, it } from 'vitest';
import { IngestJobDataSchema, IngestJobDataV3Schema, IngestJobPayloadSchema } from '../src/index.js';

const base = { tenant: 'acme', documentId: 'handbook', source: { kind: 'text', text: 'hello' } } as const;

describe('ingest payload version 3', () => {
  it('carries force, and the payload union reads it', () => {
    expect(IngestJobPayloadSchema.parse({ ...base, v: 3, force: true })).toEqual({
      ...base,
      v: 3,
      force: true,
    });
    expect(IngestJobDataV3Schema.parse({ ...base, v: 3 })).toEqual({ ...base, v: 3 });
  });

  it('is refused by version 1, so a worker that cannot force never skips such a job silently', () => {
    const v1 = IngestJobDataSchema.safeParse({ ...base, v: 1, force: true });
    expect(v1.success).toBe(false);
    expect(IngestJobDataSchema.safeParse({ ...base, v: 3 }).success).toBe(false);
  });

  it('keeps passwords out of the clear, like version 2', () => {
    expect(IngestJobDataV3Schema.safeParse({ ...base, v: 3, password: 'secret' }).success).toBe(false);
  });
});
