import { execFileSync } from 'node:child_process';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuireError } from '../errors.js';
import { resolveSource } from './resolve-source.js';

let base: string;
let root: string;
let outside: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'quire-path-source-'));
  root = join(base, 'root');
  outside = join(base, 'outside');
  await mkdir(join(root, 'sub'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, 'notes.md'), '# Notes\n');
  await writeFile(join(root, 'sub', 'deep.txt'), 'deep');
  await writeFile(join(root, 'eleven.txt'), '01234567890');
  await writeFile(join(outside, 'secret.txt'), 'secret');
  await symlink(join(outside, 'secret.txt'), join(root, 'escape.txt'));
  await symlink(outside, join(root, 'escape-dir'));
  await symlink(join(root, 'sub', 'deep.txt'), join(root, 'alias.txt'));
  await symlink(join(root, 'missing.txt'), join(root, 'dangling.txt'));
  await symlink(root, join(base, 'root-link'));
  await link(join(outside, 'secret.txt'), join(root, 'hard-escape.txt'));
  execFileSync('mkfifo', [join(root, 'pipe')]);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<QuireError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof QuireError) return error;
    throw error;
  }
  throw new Error('expected the promise to reject');
}

const read = (path: string, options: { roots?: string[]; maxBytes?: number } = {}) =>
  resolveSource({ kind: 'path', path }, { roots: [root], ...options });

describe('path sources', () => {
  it('reads a file inside a root', async () => {
    const path = join(root, 'notes.md');
    const source = await read(path);
    expect(new TextDecoder().decode(source.bytes)).toBe('# Notes\n');
    expect(source).toMatchObject({ name: 'notes.md', origin: path });
    expect(source.claimedType).toBeUndefined();
  });

  it('follows a symlink that stays inside the root, naming the file after the link', async () => {
    const source = await read(join(root, 'alias.txt'));
    expect(new TextDecoder().decode(source.bytes)).toBe('deep');
    expect(source.name).toBe('alias.txt');
  });

  it('accepts paths through a root configured as a symlink', async () => {
    const source = await read(join(base, 'root-link', 'notes.md'), { roots: [join(base, 'root-link')] });
    expect(source.name).toBe('notes.md');
  });

  it('refuses ".." that leaves the root, even when the target exists', async () => {
    const error = await rejection(read(`${root}/sub/../../outside/secret.txt`));
    expect(error.code).toBe('source_forbidden');
    expect(error.message).toContain('outside the allowed source roots');
  });

  it('refuses a hard link, which may share its file with a path outside the root', async () => {
    const error = await rejection(read(join(root, 'hard-escape.txt')));
    expect(error.code).toBe('source_forbidden');
    expect(error.message).toMatch(/hard link/);
  });

  it('refuses a symlink that leads outside the root', async () => {
    for (const path of [join(root, 'escape.txt'), join(root, 'escape-dir', 'secret.txt')]) {
      const error = await rejection(read(path));
      expect(error.code).toBe('source_forbidden');
      expect(error.message).toContain('symbolic link');
    }
  });

  it('refuses a directory', async () => {
    const error = await rejection(read(join(root, 'sub')));
    expect(error.code).toBe('source_forbidden');
    expect(error.message).toContain('is a directory');
  });

  it('refuses a FIFO without opening it (which would block)', async () => {
    const error = await rejection(read(join(root, 'pipe')));
    expect(error.code).toBe('source_forbidden');
    expect(error.message).toContain('is a FIFO');
  });

  it('refuses a file over maxBytes and reads one at the limit', async () => {
    const error = await rejection(read(join(root, 'eleven.txt'), { maxBytes: 10 }));
    expect(error.code).toBe('too_large');
    expect(error.details).toEqual({ bytes: 11, maxBytes: 10 });
    const source = await read(join(root, 'eleven.txt'), { maxBytes: 11 });
    expect(source.bytes.byteLength).toBe(11);
  });

  it('stops reading at maxBytes when the file holds more than its size says', async () => {
    // procfs files report a size of 0 and still have content: the same as a file growing after fstat.
    const error = await rejection(
      resolveSource({ kind: 'path', path: '/proc/self/status' }, { roots: ['/proc/self'], maxBytes: 16 }),
    );
    expect(error.code).toBe('too_large');
    expect(error.message).toContain('grew past the limit of 16 bytes');
  });

  it('reports a missing file (or a dangling link) as not found, permanently', async () => {
    for (const path of [join(root, 'nope.txt'), join(root, 'dangling.txt'), join(root, 'notes.md', 'x')]) {
      const error = await rejection(read(path));
      expect(error.code).toBe('source_not_found');
      expect(error.retryable).toBe(false);
    }
  });

  it('refuses paths when no roots are configured', async () => {
    const error = await rejection(read(join(root, 'notes.md'), { roots: [] }));
    expect(error.code).toBe('source_forbidden');
    expect(error.message).toContain('no source roots are configured');
  });

  it('refuses relative paths and relative roots', async () => {
    expect((await rejection(read('notes.md'))).code).toBe('invalid_input');
    const error = await rejection(read(join(root, 'notes.md'), { roots: ['relative/root'] }));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toContain('not an absolute path');
  });

  it('throws the abort reason when aborted', async () => {
    const reason = new Error('stopped');
    await expect(
      resolveSource(
        { kind: 'path', path: join(root, 'notes.md') },
        { roots: [root], signal: AbortSignal.abort(reason) },
      ),
    ).rejects.toBe(reason);
  });
});
