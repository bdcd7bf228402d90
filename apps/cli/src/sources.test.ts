import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '@quire/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IngestInput } from './inputs.js';
import { formatBytes, planSource, resolveRoots } from './sources.js';

let tmp: TempDir;
let shared: string;

beforeEach(async () => {
  tmp = await makeTempDir('cli-sources');
  shared = join(tmp.path, 'shared');
  await mkdir(shared);
  await writeFile(join(shared, 'a.txt'), 'shared file');
  await writeFile(join(tmp.path, 'b.txt'), 'private file');
});

afterEach(async () => {
  await tmp.cleanup();
});

const file = (path: string, size: number): IngestInput => ({
  kind: 'file',
  path,
  name: 'x',
  documentId: 'x',
  size,
});

describe('planSource', () => {
  it('sends a file under a shared root as a path', async () => {
    const roots = await resolveRoots([shared]);
    const plan = await planSource(file(join(shared, 'a.txt'), 11), { roots, inlineMaxBytes: 100 });
    expect(plan).toEqual({ ok: true, source: { kind: 'path', path: join(shared, 'a.txt') } });
  });

  it('sends any other file inline, base64, with its name', async () => {
    const roots = await resolveRoots([shared]);
    const plan = await planSource(file(join(tmp.path, 'b.txt'), 12), { roots, inlineMaxBytes: 100 });
    expect(plan).toEqual({
      ok: true,
      source: { kind: 'base64', data: Buffer.from('private file').toString('base64'), name: 'b.txt' },
    });
  });

  it('refuses an inline file above the limit, saying how to send it', async () => {
    const plan = await planSource(file(join(tmp.path, 'b.txt'), 12), { roots: [], inlineMaxBytes: 10 });
    expect(plan.ok).toBe(false);
    expect(!plan.ok && plan.error).toMatch(
      /12 B is more than the 10 B .*no spool.*QUIRE_SPOOL_DIR.*QUIRE_FILE_ROOTS.*QUIRE_INLINE_MAX_BYTES/,
    );
  });

  it('sends a file above the inline limit through the spool, as a path to the copy', async () => {
    const copies: string[] = [];
    const plan = await planSource(file(join(tmp.path, 'b.txt'), 12), {
      roots: [],
      inlineMaxBytes: 10,
      spoolFile: async (path) => {
        copies.push(path);
        return '/spool/1234-b.txt';
      },
    });
    expect(copies).toEqual([join(tmp.path, 'b.txt')]);
    expect(plan).toEqual({
      ok: true,
      source: { kind: 'path', path: '/spool/1234-b.txt' },
      spooled: '/spool/1234-b.txt',
    });
  });

  it('keeps small files inline even when a spool exists', async () => {
    const plan = await planSource(file(join(tmp.path, 'b.txt'), 12), {
      roots: [],
      inlineMaxBytes: 100,
      spoolFile: () => Promise.reject(new Error('must not spool')),
    });
    expect(plan.ok && plan.source.kind).toBe('base64');
  });

  it('sends a URL as a URL', async () => {
    const plan = await planSource(
      { kind: 'url', url: 'https://example.com/a.pdf', name: 'a', documentId: 'a' },
      { roots: [], inlineMaxBytes: 1 },
    );
    expect(plan).toEqual({ ok: true, source: { kind: 'url', url: 'https://example.com/a.pdf' } });
  });

  it('drops roots that do not exist', async () => {
    expect(await resolveRoots([join(tmp.path, 'nowhere'), shared])).toEqual([shared]);
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(16 * 1024 * 1024)).toBe('16 MiB');
  });
});
