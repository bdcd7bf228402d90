/**
 * How a document travels to the worker.
 *
 * - A file under one of the shared roots (QUIRE_FILE_ROOTS, which `quire dev` and `quire demo` set
 *   for their workers too) goes as a `path` source: only its path is queued, the worker reads the
 *   file itself under its own limits, and Redis never holds the bytes (a job payload stays in Redis
 *   for as long as job retention keeps it).
 * - Any other small file goes inline, base64 in the job payload: the workers may run on another
 *   machine or in a container that cannot see it, and a worker refuses paths outside its roots.
 *   Inline files are capped (QUIRE_INLINE_MAX_BYTES, 256 KiB by default): a job payload stays in
 *   Redis as long as the job is kept.
 * - A larger file is copied into the spool shared with the workers (QUIRE_SPOOL_DIR; by default
 *   `<QUIRE_DATA_DIR>/spool` with the embedded store) and goes as a `path` source; the copy is
 *   removed when its job has ended for good. Without a spool it is refused, saying what to set.
 * - A URL goes as a `url` source; the worker fetches it under its network policy.
 */
import { readFile, realpath } from 'node:fs/promises';
import { basename, isAbsolute, relative, sep } from 'node:path';
import type { IngestSource } from '@quire/core';
import type { IngestInput } from './inputs.js';

export interface SourcePlanOptions {
  /** Directories the workers read from as well (absolute). */
  roots: readonly string[];
  /** Largest file sent inline, in bytes. */
  inlineMaxBytes: number;
  /** Copies a file into the spool shared with the workers and returns its path there; absent: no spool. */
  spoolFile?: (path: string) => Promise<string>;
}

/**
 * A source, or why the input cannot be sent. `spooled` is the spool copy a `path` source points at:
 * the caller registers it with the job, or discards it when the job is not enqueued.
 */
export type SourcePlan = { ok: true; source: IngestSource; spooled?: string } | { ok: false; error: string };

/** Roots with symbolic links resolved; a root that does not exist holds no file and is dropped. */
export async function resolveRoots(roots: readonly string[]): Promise<string[]> {
  const resolved: string[] = [];
  for (const root of roots) {
    const real = await realpath(root).catch(() => undefined);
    if (real !== undefined) resolved.push(real);
  }
  return resolved;
}

export function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Builds the source of one input. `roots` must already be resolved ({@link resolveRoots}) and
 * file inputs carry real paths, so the check here is the one the worker makes.
 */
export async function planSource(input: IngestInput, options: SourcePlanOptions): Promise<SourcePlan> {
  if (input.kind === 'url') return { ok: true, source: { kind: 'url', url: input.url } };
  if (options.roots.some((root) => isInside(input.path, root))) {
    return { ok: true, source: { kind: 'path', path: input.path } };
  }
  if (input.size > options.inlineMaxBytes) {
    if (options.spoolFile !== undefined) {
      const spooled = await options.spoolFile(input.path);
      return { ok: true, source: { kind: 'path', path: spooled }, spooled };
    }
    return {
      ok: false,
      error: `${formatBytes(input.size)} is more than the ${formatBytes(options.inlineMaxBytes)} that may be sent inline, and there is no spool: set QUIRE_SPOOL_DIR to a directory the workers share (their QUIRE_SPOOL_DIR), put the file under a directory they read (QUIRE_FILE_ROOTS), or raise QUIRE_INLINE_MAX_BYTES`,
    };
  }
  const bytes = await readFile(input.path);
  if (bytes.byteLength > options.inlineMaxBytes) {
    return { ok: false, error: `grew to ${formatBytes(bytes.byteLength)} while being read` };
  }
  return { ok: true, source: { kind: 'base64', data: bytes.toString('base64'), name: basename(input.path) } };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
