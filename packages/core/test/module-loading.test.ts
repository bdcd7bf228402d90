/**
 * What a process loads: on the embedded defaults, a worker, the gateway and the CLI never load the
 * libraries only other settings or the sandbox's children need (the Qdrant client, an HTTP client
 * for a model API, the DOCX and HTML parsers), each a tenth of a second or more of CPU at start.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, type TempDir } from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('./fixtures/module-loading/', import.meta.url));
const sourceHooks = new URL('../src/sandbox/register-source-hooks.mjs', import.meta.url).href;

let tmp: TempDir;
beforeAll(async () => {
  tmp = await makeTempDir('quire-loading-');
});
afterAll(async () => {
  await tmp.cleanup();
});

/** The packages (`name@version` as pnpm stores them) a script loaded, ES modules and CommonJS alike. */
function packagesLoaded(script: string): string[] {
  const log = join(tmp.path, 'loaded.log');
  const run = spawnSync(
    process.execPath,
    [
      // The workspace's packages from their sources, as the tests see them (not a stale build).
      '--conditions=@quire/source',
      '--import',
      sourceHooks,
      '--import',
      join(here, 'register-log-hooks.mjs'),
      join(here, script),
      tmp.path,
    ],
    { env: { ...process.env, QUIRE_LOAD_LOG: log }, encoding: 'utf8', timeout: 60_000 },
  );
  expect(run.status, run.stderr).toBe(0);
  const names = (files: string[]) => {
    const packages = new Set<string>();
    for (const file of files) {
      const name = /node_modules\/\.pnpm\/([^/]+)\//.exec(file)?.[1];
      if (name !== undefined) packages.add(name.replace(/\+/g, '/'));
    }
    return packages;
  };
  const imported = names(readFileSync(log, 'utf8').split('\n'));
  const required = names(JSON.parse(run.stdout) as string[]);
  // Both ways of loading are seen: ES modules by the hooks, CommonJS in require's cache.
  expect(imported.size).toBeGreaterThan(0);
  expect(required.size).toBeGreaterThan(0);
  return [...new Set([...imported, ...required])];
}

describe('module loading', () => {
  it('leaves the Qdrant client, undici and the DOCX and HTML parsers out of a process on the embedded defaults', () => {
    const loaded = packagesLoaded('embedded-process.ts');
    // The script did load what it uses: the check sees packages at all.
    expect(loaded.some((name) => name.startsWith('better-sqlite3@'))).toBe(true);
    expect(loaded.some((name) => name.startsWith('tiktoken@'))).toBe(true);
    for (const unwanted of [
      '@qdrant/js-client-rest@',
      'undici@',
      'mammoth@',
      'linkedom@',
      'parse5@',
      '@mozilla/readability@',
    ]) {
      expect(loaded.filter((name) => name.startsWith(unwanted))).toEqual([]);
    }
  });
});
