/**
 * The README's examples for other languages run against a real gateway and real workers: the curl
 * script (bash, curl, sed) and the Python one (standard library only). Each submits a document,
 * waits for it, asks a question and runs a batch to its CSV report.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cleanupPrefix,
  getTestRedis,
  makeTempDir,
  type SpawnedProcess,
  type TempDir,
  type TestRedis,
  uniquePrefix,
} from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth.js';
import { type RunningGateway, startGateway, startWorker } from './harness.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const KEY = 'examples-tenant-key';

let redis: TestRedis;
let tmp: TempDir;
let prefix: string;
const workers: SpawnedProcess[] = [];
let gateway: RunningGateway | undefined;

beforeAll(async () => {
  redis = await getTestRedis();
  tmp = await makeTempDir('gateway-examples');
  prefix = uniquePrefix('examples');
  const shared = { REDIS_URL: redis.url, QUIRE_QUEUE_PREFIX: prefix, QUIRE_DATA_DIR: join(tmp.path, 'data') };
  workers.push(await startWorker('ingest', shared), await startWorker('query', shared));
  gateway = await startGateway({ ...shared, QUIRE_API_KEYS: `examples:${hashApiKey(KEY)}` });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  if (redis) await cleanupPrefix(redis.url, prefix);
  await redis?.stop();
  await tmp?.cleanup();
});

function runExample(command: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('examples for other languages', () => {
  it('curl: submits, waits, asks and exports a batch', async () => {
    const result = await runExample('bash', [join(EXAMPLES, 'curl-quickstart.sh')], {
      QUIRE_URL: gateway!.url,
      QUIRE_API_KEY: KEY,
      DOC_ID: 'curl-handbook',
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('ingested curl-handbook');
    expect(result.stdout).toMatch(/^answer: .*every four seconds.*\[1\]/m);
    // The CSV report: a header and one row per question, each answered from the document.
    expect(result.stdout).toMatch(/^0,"lamp",.*green/m);
    expect(result.stdout).toMatch(/^1,"ferry",.*seven in the morning/m);
  }, 60_000);

  it("Python's standard library: submits, waits, asks and exports a batch", async () => {
    const result = await runExample('python3', [join(EXAMPLES, 'python_quickstart.py')], {
      QUIRE_URL: gateway!.url,
      QUIRE_API_KEY: KEY,
      DOC_ID: 'python-handbook',
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ingested python-handbook: \{.*"chunks": [1-9]/m);
    expect(result.stdout).toMatch(/^answer: .*every four seconds.*\[1\]/m);
    expect(result.stdout).toMatch(/^ {2}\[1\] python-handbook/m);
    expect(result.stdout).toContain('2 of 2 answered');
    expect(result.stdout).toMatch(/^0,"lamp",.*green/m);
  }, 60_000);

  it('Python: a wrong key is a clear error, not a traceback', async () => {
    const result = await runExample('python3', [join(EXAMPLES, 'python_quickstart.py')], {
      QUIRE_URL: gateway!.url,
      QUIRE_API_KEY: 'not-a-key',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^quire: POST \/v1\/documents: 401 /m);
    expect(result.stderr).not.toContain('Traceback');
  }, 30_000);
});
