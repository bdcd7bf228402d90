import { access, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from './free-port.js';
import { makeTempDir, safeLabel } from './temp-dir.js';

describe('makeTempDir', () => {
  it('makes a fresh directory under the OS temp dir and removes it with its content', async () => {
    const a = await makeTempDir('My Test/../x');
    const b = await makeTempDir('My Test/../x');
    expect(a.path.startsWith(join(tmpdir(), 'quire-my-test-x-'))).toBe(true);
    expect(a.path).not.toBe(b.path);
    await writeFile(join(a.path, 'file.txt'), 'x');
    await a.cleanup();
    await a.cleanup();
    await expect(access(a.path)).rejects.toMatchObject({ code: 'ENOENT' });
    await b.cleanup();
  });

  it('keeps labels to safe characters', () => {
    expect(safeLabel('Ingest: PDF (big)')).toBe('ingest-pdf-big');
    expect(safeLabel('***')).toBe('test');
  });
});

describe('freePort', () => {
  it('gives a port nobody listens on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
