/**
 * The CLI end to end: `quire dev` runs the real workers and gateway as processes, and each test
 * runs the built `quire` against them, through Redis (the default) or the gateway (`--url`).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cleanupPrefix,
  getTestRedis,
  makePdf,
  makeTempDir,
  makeTruncatedPdf,
  type SpawnedProcess,
  type TempDir,
  type TestRedis,
  uniquePrefix,
} from '@quire/testkit';
import { parse } from 'csv-parse/sync';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quire, startQuire } from './harness.js';

const TENANT = 'e2e';
const API_KEY = 'e2e-gateway-key';

let redis: TestRedis;
let tmp: TempDir;
let prefix: string;
let dev: SpawnedProcess;
let docs: string;
let gatewayUrl: string;
let env: Record<string, string>;

beforeAll(async () => {
  redis = await getTestRedis();
  tmp = await makeTempDir('cli-e2e');
  prefix = uniquePrefix('cli');
  docs = join(tmp.path, 'docs');
  await mkdir(join(docs, 'sub'), { recursive: true });
  await writeFile(
    join(docs, 'guide.md'),
    '# Harbor guide\n\n## Lamp\n\nThe harbor lamp flashes green every four seconds.\n\n## Bell\n\nThe fog bell rings twice a minute in fog.\n',
  );
  await writeFile(
    join(docs, 'sub', 'notes.txt'),
    'Notes\n\nThe ferry to the island leaves at seven in the morning.\n',
  );
  await writeFile(
    join(docs, 'manual.pdf'),
    await makePdf([
      ['Engine manual', 'Check the oil level before every trip.'],
      ['Maintenance', 'Replace the spark plugs every two hundred hours of running.'],
    ]),
  );
  await mkdir(join(tmp.path, 'broken'));
  await writeFile(join(tmp.path, 'broken', 'broken.pdf'), await makeTruncatedPdf([['Half a page']]));
  await mkdir(join(tmp.path, 'outside'));
  await writeFile(
    join(tmp.path, 'outside', 'extra.txt'),
    'Extra\n\nThe lighthouse keeper owns a grey cat named Fog.\n',
  );

  env = {
    REDIS_URL: redis.url,
    QUIRE_QUEUE_PREFIX: prefix,
    QUIRE_DATA_DIR: join(tmp.path, 'data'),
    QUIRE_FILE_ROOTS: `${docs},${join(tmp.path, 'broken')}`,
    QUIRE_TENANT: TENANT,
  };
  dev = await startQuire(['dev', '--gateway', '--grace', '10'], {
    cwd: tmp.path,
    env: {
      ...env,
      LOG_FORMAT: 'json',
      PORT: '0',
      HOST: '127.0.0.1',
      QUIRE_API_KEYS: `${TENANT}:${createHash('sha256').update(API_KEY).digest('hex')}`,
    },
    readyLine: /Quire is running/,
    readyTimeoutMs: 60_000,
  });
  const gateway = await dev.waitForLine(/^ {2}gateway: (http:\/\/\S+)/);
  gatewayUrl = gateway[1]!;
}, 120_000);

afterAll(async () => {
  // SIGTERM first: the CLI stops the services it started (in process groups of their own).
  if (dev) await Promise.race([dev.kill('SIGTERM'), new Promise((resolve) => setTimeout(resolve, 20_000))]);
  await dev?.kill('SIGKILL');
  await cleanupPrefix(redis.url, prefix);
  await redis?.stop();
  await tmp?.cleanup();
});

const run = (args: string[], extra: Record<string, string> = {}) =>
  quire(args, { cwd: tmp.path, env: { ...env, ...extra } });

/** A small eval set in the BEIR layout, written under the test's directory. */
async function writeEvalSet(): Promise<string> {
  const dir = join(tmp.path, 'evalset');
  await mkdir(join(dir, 'qrels'), { recursive: true });
  const corpus = [
    { _id: 'kiln', text: 'The pottery kiln is fired to twelve hundred degrees for stoneware.' },
    { _id: 'loom', text: 'The weaving loom in the east hall has sixty heddles per shaft.' },
    { _id: 'press', text: 'The cider press squeezes apples with a screw of oak.' },
  ];
  await writeFile(join(dir, 'corpus.jsonl'), corpus.map((d) => JSON.stringify(d)).join('\n'));
  await writeFile(
    join(dir, 'queries.jsonl'),
    [
      { _id: 'k', text: 'How hot is the pottery kiln fired for stoneware?' },
      { _id: 'l', text: 'How many heddles does the weaving loom have per shaft?' },
      { _id: 'u', text: 'What is the speed of light in a vacuum?' },
    ]
      .map((q) => JSON.stringify(q))
      .join('\n'),
  );
  await writeFile(join(dir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nk\tkiln\t1\nl\tloom\t1\n');
  await writeFile(join(dir, 'answers.jsonl'), '{"_id":"k","answers":["twelve hundred degrees"]}\n');
  return dir;
}

// Each test runs the CLI a few times; on a busy machine a process start alone can take seconds.
describe('quire, end to end through Redis', { timeout: 120_000 }, () => {
  it('ingests a directory, following every file to the end', async () => {
    const result = await run(['ingest', docs, '--wait']);
    expect(result.stderr).toBe('');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`Queued 3 of 3 documents for tenant ${TENANT}`);
    expect(result.stdout).toMatch(/^done {4}manual\.pdf {2}ingested · \d+ chunks? · 2 pages$/m);
    expect(result.stdout).toMatch(/^sub\/notes\.txt +path +ingested +- +1 /m);
    expect(result.stdout).toMatch(/^guide\.md +path +ingested /m);
  });

  it('sends a file outside the shared roots inline, and reports JSON', async () => {
    const result = await run(['ingest', join(tmp.path, 'outside', 'extra.txt'), '--wait', '--json']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { tenant: string; documents: Record<string, unknown>[] };
    expect(report.tenant).toBe(TENANT);
    expect(report.documents).toEqual([
      expect.objectContaining({
        documentId: 'extra.txt',
        sentAs: 'inline',
        state: 'completed',
        outcome: 'ingested',
      }),
    ]);
  });

  it('sends a large file outside the shared roots through the spool, which the worker empties', async () => {
    const filler = Array.from(
      { length: 6000 },
      (_, i) => `Paragraph ${i} records the tide table of the harbour.`,
    );
    const big = join(tmp.path, 'outside', 'tides.txt');
    await writeFile(big, `Tides\n\nThe spring tide floods the quay at noon.\n\n${filler.join('\n\n')}\n`);
    // A tenant of its own, so that the other tests' document counts stay as they are.
    const result = await run(['ingest', big, '--wait', '--json'], { QUIRE_TENANT: 'e2e-spool' });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { documents: { jobId: string }[] };
    expect(report.documents).toEqual([
      expect.objectContaining({
        documentId: 'tides.txt',
        sentAs: 'spool',
        state: 'completed',
        outcome: 'ingested',
      }),
    ]);
    // The job carries a path into the spool, never the bytes; the copy goes once the job has ended.
    const client = new Redis(redis.url);
    try {
      const data = JSON.parse(
        (await client.hget(`${prefix}:ingest:${report.documents[0]!.jobId}`, 'data')) ?? '{}',
      ) as {
        source?: { kind?: string; path?: string };
        sourceName?: string;
      };
      expect(data.source?.kind).toBe('path');
      expect(data.source?.path?.startsWith(join(tmp.path, 'data', 'spool'))).toBe(true);
      expect(data.sourceName).toBe('tides.txt');
      const spoolDir = join(tmp.path, 'data', 'spool');
      const deadline = Date.now() + 10_000;
      let left = await readdir(spoolDir);
      while (left.length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        left = await readdir(spoolDir);
      }
      expect(left).toEqual([]);
      expect(await client.hlen(`${prefix}:spool`)).toBe(0);
    } finally {
      client.disconnect();
    }
  });

  it('answers a question with its numbered sources, document and page', async () => {
    const result = await run(['ask', 'How often should the spark plugs be replaced?']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/spark plugs every two hundred hours of running.*\[1\]/);
    expect(result.stdout).toMatch(/Sources\n {2}\[1\] manual\.pdf, p\. 2\n/);
  });

  it('filters by document and prints the whole result as JSON', async () => {
    const result = await run([
      'ask',
      '--json',
      '--doc',
      'guide.md',
      '--top-n',
      '2',
      'When',
      'does',
      'the',
      'fog',
      'bell',
      'ring?',
    ]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const answer = JSON.parse(result.stdout) as {
      answer: string;
      citations: { documentId: string }[];
      passages: unknown[];
    };
    expect(answer.answer).toContain('twice a minute');
    expect(answer.citations.length).toBeGreaterThan(0);
    expect(answer.citations.every((c) => c.documentId === 'guide.md')).toBe(true);
    expect(answer.passages.length).toBeLessThanOrEqual(2);
  });

  it('runs an eval set in a tenant of its own and writes the report', async () => {
    const dir = await writeEvalSet();
    const result = await run(['eval', dir, '--out', 'eval.json', '--cleanup', '--include-candidates']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Eval [0-9a-f-]+: 3 questions, 3 documents, tenant eval-[0-9a-f]{8}/);
    expect(result.stdout).toMatch(/Token estimate: ~\d/);
    expect(result.stdout).toMatch(/R@1 lexical 100\.0 %/);
    const report = JSON.parse(await readFile(join(tmp.path, 'eval.json'), 'utf8')) as {
      tenant: string;
      answerable: number;
      documents: { cleanedUp: boolean };
      queries: { id: string; candidates?: unknown[] }[];
    };
    expect(report).toMatchObject({ answerable: 2, documents: { cleanedUp: true } });
    expect(report.tenant).toMatch(/^eval-/);
    expect(report.queries.map((q) => q.id)).toEqual(['k', 'l', 'u']);
    expect(report.queries[0]?.candidates?.length).toBeGreaterThan(0);
  });

  it('answers a batch into JSON Lines and into CSV', async () => {
    await writeFile(
      join(tmp.path, 'questions.txt'),
      'When does the ferry leave?\nWhat colour does the harbor lamp flash?\nWhat is the cat called?\n',
    );
    const jsonl = await run(['batch', 'questions.txt', '--out', 'results.jsonl']);
    expect(jsonl.code, jsonl.stdout + jsonl.stderr).toBe(0);
    expect(jsonl.stdout).toMatch(/3 answered, 0 failed → .*results\.jsonl/);
    const items = (await readFile(join(tmp.path, 'results.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            index: number;
            ok: boolean;
            answer: string;
            citations: { documentId: string }[];
          },
      );
    expect(items.map((i) => i.index)).toEqual([0, 1, 2]);
    expect(items[0]?.answer).toContain('seven in the morning');
    expect(items[0]?.citations[0]?.documentId).toBe('sub/notes.txt');
    expect(items[2]?.citations[0]?.documentId).toBe('extra.txt');

    await writeFile(
      join(tmp.path, 'questions.csv'),
      'id,question\nferry,When does the ferry leave?\n-oil,When should the oil level be checked?\n',
    );
    const csv = await run(['batch', 'questions.csv', '--out', 'results.csv']);
    expect(csv.code, csv.stdout + csv.stderr).toBe(0);
    const rows = parse(await readFile(join(tmp.path, 'results.csv'), 'utf8'), { columns: true }) as Record<
      string,
      string
    >[];
    // An id a spreadsheet would read as a formula is escaped by default.
    expect(rows.map((r) => [r.id, r.ok])).toEqual([
      ['ferry', 'true'],
      ["'-oil", 'true'],
    ]);
    expect(rows[1]?.answer).toContain('oil level');
    expect(JSON.parse(rows[1]?.citations ?? '[]')[0]).toMatchObject({
      documentId: 'manual.pdf',
      pageStart: 1,
    });
    const kept = await run(['batch', 'questions.csv', '--format', 'csv', '--csv-formulas', 'keep']);
    expect(kept.code, kept.stdout + kept.stderr).toBe(0);
    const keptRows = parse(kept.stdout, { columns: true }) as Record<string, string>[];
    expect(keptRows.map((r) => r.id)).toEqual(['ferry', '-oil']);
  });

  it('shows a failed job with its reason in status, and retries it', async () => {
    const ingest = await run(['ingest', join(tmp.path, 'broken', 'broken.pdf'), '--wait']);
    expect(ingest.code, ingest.stdout + ingest.stderr).toBe(1);
    expect(ingest.stdout).toMatch(/^failed {2}broken\.pdf {2}.*broken\.pdf/m);

    const status = await run(['status']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^ingest +[1-9]\d* +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +1$/m);
    expect(status.stdout).toMatch(
      /Failed jobs \(1, most recent first\)\n {2}ingest job \S+ \(ingest\) · tenant e2e · broken\.pdf · 1 attempt/,
    );
    const json = JSON.parse((await run(['status', '--json', '--queue', 'ingest'])).stdout) as {
      failed: { subject: string; reason: string }[];
    };
    expect(json.failed).toHaveLength(1);
    expect(json.failed[0]?.subject).toBe('broken.pdf');
    expect(json.failed[0]?.reason).toMatch(/broken\.pdf/);

    const retried = await run(['status', '--retry-failed', '--queue', 'ingest']);
    expect(retried.stdout).toContain('Retried 1 failed job: they are waiting again.');
  });

  it('lists documents and deletes one', async () => {
    const list = await run(['docs', 'list']);
    expect(list.code, list.stdout + list.stderr).toBe(0);
    for (const id of ['extra.txt', 'guide.md', 'manual.pdf', 'sub/notes.txt'])
      expect(list.stdout).toContain(id);
    expect(list.stdout).toContain(`4 documents for tenant ${TENANT}`);

    const removed = await run(['docs', 'delete', 'sub/notes.txt', '--wait']);
    expect(removed.code, removed.stdout + removed.stderr).toBe(0);
    expect(removed.stdout).toBe('sub/notes.txt: deleted\n');
    const after = JSON.parse((await run(['docs', 'list', '--json'])).stdout) as {
      documents: { documentId: string }[];
    };
    expect(after.documents.map((d) => d.documentId)).toEqual(['extra.txt', 'guide.md', 'manual.pdf']);
  });
});

describe('quire, end to end through the gateway', { timeout: 120_000 }, () => {
  const viaGateway = (args: string[]) => run(['--url', gatewayUrl, ...args], { QUIRE_API_KEY: API_KEY });

  it('uploads, asks and lists with the API key', async () => {
    await writeFile(
      join(tmp.path, 'outside', 'tides.md'),
      '# Tides\n\nHigh tide at the harbor comes twice a day.\n',
    );
    const ingest = await viaGateway(['ingest', join(tmp.path, 'outside', 'tides.md'), '--wait']);
    expect(ingest.code, ingest.stdout + ingest.stderr).toBe(0);
    expect(ingest.stdout).toContain("for the API key's tenant on gateway http://127.0.0.1:");
    expect(ingest.stdout).toMatch(/^tides\.md +upload +ingested /m);

    const ask = await viaGateway(['ask', 'How often does high tide come?']);
    expect(ask.code, ask.stdout + ask.stderr).toBe(0);
    expect(ask.stdout).toMatch(/\[1\] tides\.md\n/);

    const list = await viaGateway(['docs', 'list', '--json']);
    expect((JSON.parse(list.stdout) as { documents: unknown[] }).documents).toHaveLength(4);
  });

  it('asks for a token cap before an eval through a gateway, then runs it', async () => {
    const dir = await writeEvalSet();
    const refused = await viaGateway(['eval', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--max-tokens/);
    const ran = await viaGateway(['eval', dir, '--max-tokens', '1000000', '--cleanup', '--format', 'csv']);
    expect(ran.code, ran.stderr).toBe(0);
    const rows = parse(ran.stdout, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.id, r.rank_lexical])).toEqual([
      ['k', '1'],
      ['l', '1'],
      ['u', ''],
    ]);
  });

  it('refuses a wrong key with the reason', async () => {
    const result = await run(['--url', gatewayUrl, 'docs', 'list'], { QUIRE_API_KEY: 'wrong' });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toMatch(/the gateway refused the API key/);
  });
});

describe('quire dev', { timeout: 60_000 }, () => {
  it('stops every service it started on SIGTERM, and exits 0', async () => {
    const exit = await dev.kill('SIGTERM');
    expect(exit.code, dev.output()).toBe(0);
    const output = dev.output();
    for (const service of ['ingest', 'query', 'gateway']) {
      expect(output).toContain(`${service} stopped (exit code 0)`);
    }
  });
});
