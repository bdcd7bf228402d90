/**
 * The versioning policy (README), checked: every fixture of every payload version ever released
 * is still read by this release, newer versions are refused by name, results tolerate fields
 * added by newer workers, and payloads refuse fields they do not know.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  BatchJobDataSchema,
  BatchJobPayloadSchema,
  BatchReportSchema,
  DeleteJobDataSchema,
  DeleteResultSchema,
  describeZodError,
  IngestJobDataSchema,
  IngestProgressSchema,
  IngestResultSchema,
  QueryJobDataSchema,
  QueryJobPayloadSchema,
  QueryResultSchema,
  queryOptionsVersion,
  upgradeBatchJob,
  upgradeQueryJob,
} from '../src/index.js';

const FIXTURES = new URL('./fixtures/', import.meta.url);

/** Each kind of message, the schema this release reads it with, and whether it is a payload. */
const KINDS: Record<string, { schema: z.ZodType; payload: boolean }> = {
  'ingest-job': { schema: IngestJobDataSchema, payload: true },
  'delete-job': { schema: DeleteJobDataSchema, payload: true },
  'query-job': { schema: QueryJobDataSchema, payload: true },
  'batch-job': { schema: BatchJobDataSchema, payload: true },
  'ingest-result': { schema: IngestResultSchema, payload: false },
  'delete-result': { schema: DeleteResultSchema, payload: false },
  'query-result': { schema: QueryResultSchema, payload: false },
  'batch-report': { schema: BatchReportSchema, payload: false },
  'ingest-progress': { schema: IngestProgressSchema, payload: false },
};

const versions = readdirSync(FIXTURES).filter((name) => /^v\d+$/.test(name));
const fixtures = versions.flatMap((version) =>
  readdirSync(new URL(`${version}/`, FIXTURES))
    .filter((file) => file.endsWith('.json'))
    .map((file) => {
      const kind = Object.keys(KINDS)
        .filter((k) => file === `${k}.json` || file.startsWith(`${k}-`))
        .sort((a, b) => b.length - a.length)[0];
      const data = JSON.parse(readFileSync(new URL(`${version}/${file}`, FIXTURES), 'utf8')) as unknown;
      return { version, file, kind, data };
    }),
);

function parse(kind: string, data: unknown) {
  const entry = KINDS[kind];
  if (entry === undefined) throw new Error(`no schema for ${kind}`);
  return entry.schema.safeParse(data);
}

describe('payload versions', () => {
  it('has fixtures of every kind for the newest version', () => {
    const newest = versions.sort((a, b) => Number(b.slice(1)) - Number(a.slice(1)))[0];
    expect(newest).toBe('v1');
    const covered = new Set(fixtures.filter((f) => f.version === newest).map((f) => f.kind));
    expect([...covered].sort()).toEqual(Object.keys(KINDS).sort());
  });

  it.each(fixtures.map((f) => [`${f.version}/${f.file}`, f] as const))('reads %s', (_name, fixture) => {
    expect(fixture.kind, `${fixture.file} names no known kind`).toBeDefined();
    const parsed = parse(fixture.kind!, fixture.data);
    expect(parsed.success, parsed.success ? '' : describeZodError(parsed.error)).toBe(true);
    if (parsed.success && KINDS[fixture.kind!]!.payload) {
      // A payload is read as it was written: nothing dropped, nothing added.
      expect(parsed.data).toEqual(fixture.data);
    }
  });

  it.each(Object.entries(KINDS).filter(([, k]) => k.payload))(
    'refuses a %s of a version it does not know, naming the version',
    (kind) => {
      const fixture = fixtures.find((f) => f.kind === kind && f.version === 'v1')!;
      const parsed = parse(kind, { ...(fixture.data as object), v: 2 });
      expect(parsed.success).toBe(false);
      if (!parsed.success) {
        expect(describeZodError(parsed.error)).toBe(
          'v: unsupported payload version 2: this release reads version 1 (upgrade the workers before the producers)',
        );
      }
      const { v: _v, ...unversioned } = fixture.data as Record<string, unknown>;
      const missing = parse(kind, unversioned);
      expect(missing.success).toBe(false);
      if (!missing.success) expect(describeZodError(missing.error)).toMatch(/^v: v is missing/);
    },
  );

  it.each(Object.entries(KINDS).filter(([, k]) => k.payload))(
    'refuses a %s with a field it does not know, rather than dropping it',
    (kind) => {
      const fixture = fixtures.find((f) => f.kind === kind && f.version === 'v1')!;
      const parsed = parse(kind, { ...(fixture.data as object), priorityHint: 'high' });
      expect(parsed.success).toBe(false);
      if (!parsed.success) expect(describeZodError(parsed.error)).toMatch(/priorityHint/);
    },
  );

  it.each(Object.entries(KINDS).filter(([, k]) => !k.payload))(
    'reads a %s that a newer worker wrote with an extra field',
    (kind) => {
      const fixture = fixtures.find((f) => f.kind === kind && f.version === 'v1')!;
      const parsed = parse(kind, { ...(fixture.data as object), addedLater: { any: 'thing' } });
      expect(parsed.success, parsed.success ? '' : describeZodError(parsed.error)).toBe(true);
      expect(parsed.data).not.toHaveProperty('addedLater');
    },
  );
});

describe('query and batch payloads, version 2', () => {
  const v1 = (kind: string) =>
    fixtures.find((f) => f.kind === kind && f.version === 'v1')!.data as Record<string, unknown>;

  it('reads version 1 as version 2 with the same meaning', () => {
    const query = QueryJobPayloadSchema.parse(v1('query-job'));
    expect(upgradeQueryJob(query)).toEqual({ ...v1('query-job'), v: 2 });
    const batch = BatchJobPayloadSchema.parse(v1('batch-job'));
    expect(upgradeBatchJob(batch)).toEqual({ ...v1('batch-job'), v: 2 });
  });

  it('carries topN above 20, a context budget and what a batch report includes, within their limits', () => {
    const options = { topN: 50, contextTokens: 32_000, include: { passages: true, candidates: true } };
    expect(QueryJobPayloadSchema.safeParse({ ...v1('query-job'), v: 2, options }).success).toBe(true);
    expect(BatchJobPayloadSchema.safeParse({ ...v1('batch-job'), v: 2, options }).success).toBe(true);
    for (const bad of [
      { topN: 51 },
      { contextTokens: 0 },
      { contextTokens: 32_001 },
      { include: { all: true } },
    ]) {
      const parsed = QueryJobPayloadSchema.safeParse({ ...v1('query-job'), v: 2, options: bad });
      expect(parsed.success, JSON.stringify(bad)).toBe(false);
    }
    // Version 1 never carries them: an older worker refuses such a job instead of ignoring the option.
    expect(
      QueryJobDataSchema.safeParse({ ...v1('query-job'), options: { contextTokens: 500 } }).success,
    ).toBe(false);
  });

  it('is written only when the options need it', () => {
    expect(queryOptionsVersion(undefined)).toBe(1);
    expect(queryOptionsVersion({ topN: 20, candidates: 50 })).toBe(1);
    expect(queryOptionsVersion({ topN: 21 })).toBe(2);
    expect(queryOptionsVersion({ contextTokens: 4000 })).toBe(2);
    expect(queryOptionsVersion({ include: { passages: true } })).toBe(2);
  });
});
