/**
 * The published packages as a service outside this repository gets them: `pnpm pack` of
 * `@quire/contracts`, `@quire/jobs` and `@quire/api-client`, one plain `npm install` of the three
 * tarballs into a new project in the system's temp directory (their own dependencies come from the
 * npm registry, nothing as `@quire/*`), then a script of that project enqueues an ingestion and
 * asks a question against running worker processes.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './harness.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PUBLISHED = ['contracts', 'jobs', 'api-client'] as const;

let stack: Stack;
let project: string;

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'quire-packed-'));
  const tarballs: Record<string, string> = {};
  for (const name of PUBLISHED) {
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', project], {
      cwd: join(REPO, 'packages', name),
    });
    const file = stdout
      .trim()
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line.endsWith('.tgz'));
    if (!file) throw new Error(`pnpm pack of ${name} named no tarball:\n${stdout}`);
    tarballs[`@quire/${name}`] = `file:./${file.split('/').pop()}`;
  }
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'a-service', private: true, type: 'module', dependencies: tarballs }, null, 2),
  );
  // Outside the workspace, so nothing resolves to a workspace package; the tarballs' own
  // dependencies (bullmq, ioredis, zod, …) come from the registry, or npm's cache when it has them.
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: project,
    timeout: 240_000,
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  stack = await startStack({ label: 'packed' });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

/** Every `package.json` under a `node_modules` tree, with the folder it describes. */
function installedPackages(root: string): { dir: string; manifest: Record<string, unknown> }[] {
  const found: { dir: string; manifest: Record<string, unknown> }[] = [];
  const visit = (modules: string) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      const dirs = entry.startsWith('@')
        ? readdirSync(join(modules, entry)).map((inner) => join(modules, entry, inner))
        : [join(modules, entry)];
      for (const dir of dirs) {
        const manifest = join(dir, 'package.json');
        if (!existsSync(manifest)) continue;
        found.push({ dir, manifest: JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown> });
        visit(join(dir, 'node_modules'));
      }
    }
  };
  visit(join(root, 'node_modules'));
  return found;
}

describe('the published SDK packages', () => {
  it('install with plain npm: no Quire package but the three, nothing compiled', () => {
    const packages = installedPackages(project);
    const quire = packages
      .map((p) => String(p.manifest.name))
      .filter((name) => name.startsWith('@quire/'))
      .sort();
    expect(quire).toEqual(['@quire/api-client', '@quire/contracts', '@quire/jobs']);
    // A native build leaves its output under build/ (node-gyp). bullmq's optional msgpackr-extract
    // ships a binding.gyp but loads a prebuilt binary, so it builds nothing.
    const compiled = packages.filter(
      (p) => existsSync(join(p.dir, 'build', 'Release')) || existsSync(join(p.dir, 'build', 'Debug')),
    );
    expect(compiled.map((p) => p.manifest.name)).toEqual([]);
    for (const name of PUBLISHED) {
      const manifest = packages.find((p) => p.manifest.name === `@quire/${name}`)!.manifest;
      expect(manifest.private).toBeUndefined();
      const deps = Object.values((manifest.dependencies ?? {}) as Record<string, string>);
      // pnpm pack wrote real versions for the workspace and catalog ranges.
      expect(deps.filter((range) => /^(workspace|catalog):/.test(range))).toEqual([]);
    }
  });

  it('enqueue an ingestion and ask a question from the installed project', async () => {
    writeFileSync(
      join(project, 'client.mjs'),
      `import { BuiltinModels } from '@quire/api-client';
import { IngestResultSchema, QueryResultSchema } from '@quire/contracts';
import { Producer, QUEUES } from '@quire/jobs';

const producer = new Producer({ connection: process.env.REDIS_URL, prefix: process.env.QUIRE_QUEUE_PREFIX });
try {
  const { jobId } = await producer.enqueueIngest({
    tenant: 'packed',
    documentId: 'harbour',
    source: { kind: 'text', name: 'harbour.md', text: '# Harbour\\n\\nThe harbour office opens at six in the morning and closes at noon.' },
  });
  const ingested = IngestResultSchema.parse(await producer.waitForJob(QUEUES.ingest, jobId, { timeoutMs: 60000 }));
  const answer = await producer.ask({ tenant: 'packed', question: 'When does the harbour office open?' }, { timeoutMs: 60000 });
  QueryResultSchema.parse(answer);
  const local = await new BuiltinModels({ dimension: 8 }).embeddings({ model: 'builtin', input: ['harbour'] });
  console.log(JSON.stringify({ ingested, answer, localDimension: local.dimension }));
} finally {
  await producer.close();
}
`,
    );
    const { stdout } = await run(process.execPath, ['client.mjs'], {
      cwd: project,
      timeout: 120_000,
      env: { ...process.env, REDIS_URL: stack.redis.url, QUIRE_QUEUE_PREFIX: stack.prefix },
    });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      ingested: { outcome: string; chunks: number };
      answer: { answer: string; notFound: boolean; citations: { documentId: string }[] };
      localDimension: number;
    };
    expect(out.ingested).toMatchObject({ outcome: 'ingested' });
    expect(out.ingested.chunks).toBeGreaterThan(0);
    expect(out.answer.notFound).toBe(false);
    expect(out.answer.citations.map((c) => c.documentId)).toContain('harbour');
    expect(out.localDimension).toBe(8);
  }, 180_000);
});
