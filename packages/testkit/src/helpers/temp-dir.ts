import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  /** Absolute path of the new, empty directory. */
  path: string;
  /** Removes the directory and everything in it; safe to call twice. */
  cleanup(): Promise<void>;
}

/** A fresh directory under `os.tmpdir()` named after `label`, e.g. `quire-ingest-Ab12Cd`. */
export async function makeTempDir(label: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), `quire-${safeLabel(label)}-`));
  return {
    path,
    cleanup: () => rm(path, { recursive: true, force: true }),
  };
}

/** Keeps labels usable in file names and Redis key patterns: lower-case letters, digits and dashes. */
export function safeLabel(label: string): string {
  const cleaned = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return cleaned === '' ? 'test' : cleaned;
}
