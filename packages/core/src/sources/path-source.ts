/** Files read from the worker's own file system, confined to configured root directories. */
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { DocumentError, QuireError } from '../errors.js';
import type { PathSource, ResolvedSource } from './types.js';

export interface PathReadOptions {
  roots: readonly string[];
  maxBytes: number;
  signal?: AbortSignal;
}

/**
 * O_NOFOLLOW: the real path has no symbolic link left, so one appearing at open time means the
 * file was swapped. O_NONBLOCK: a FIFO swapped in after the type check must not block the open.
 * Windows has neither flag; there the dev/ino comparison still catches a swap.
 */
const OPEN_FLAGS =
  constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** After the first read, which asks for the whole expected file, growth is read in pieces of this size. */
const GROWTH_CHUNK_BYTES = 64 * 1024;

/** True when `path` is `root` or below it; both must be absolute and normalised. */
export function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The checks that need no file system: the path is absolute and, when roots are given, lies
 * inside one of them once `..` segments are resolved.
 */
export function checkPathShape(path: string, roots: readonly string[] | undefined): void {
  if (!isAbsolute(path)) throw new DocumentError(path, 'invalid_input', 'path must be absolute');
  if (roots === undefined) return;
  if (roots.length === 0) throw pathsDisabled(path);
  const normalised = resolve(path);
  if (!roots.some((root) => isInside(normalised, resolve(root)))) {
    throw new DocumentError(path, 'source_forbidden', 'path is outside the allowed source roots');
  }
}

export async function readPathSource(source: PathSource, options: PathReadOptions): Promise<ResolvedSource> {
  const label = source.path;
  const { roots, maxBytes, signal } = options;
  if (roots.length === 0) throw pathsDisabled(label);
  const unusable = roots.find((root) => !isAbsolute(root));
  if (unusable !== undefined) {
    throw new QuireError('invalid_input', `source root ${JSON.stringify(unusable)} is not an absolute path`);
  }
  const resolvedRoots = await realRoots(roots);
  // Configured roots may themselves be links (/data -> /mnt/data): either spelling is accepted here.
  checkPathShape(label, roots.concat(resolvedRoots));
  signal?.throwIfAborted();

  // The lexical check above follows `..` textually; the real path is what the kernel will open.
  const real = await fsCall(label, () => realpath(label));
  if (!resolvedRoots.some((root) => isInside(real, root))) {
    throw new DocumentError(
      label,
      'source_forbidden',
      'path leads outside the allowed source roots through a symbolic link',
    );
  }
  const expected = await fsCall(label, () => stat(real));
  checkRegularFile(label, expected);
  checkSingleLink(label, expected);
  checkSize(label, expected.size, maxBytes);

  const handle = await fsCall(label, () => open(real, OPEN_FLAGS));
  try {
    const opened = await fsCall(label, () => handle.stat());
    if (opened.dev !== expected.dev || opened.ino !== expected.ino) {
      throw new DocumentError(label, 'source_unavailable', 'file was replaced while being opened', {
        retryable: true,
      });
    }
    checkRegularFile(label, opened);
    checkSingleLink(label, opened);
    checkSize(label, opened.size, maxBytes);
    const bytes = await readCapped(handle, label, opened.size, maxBytes, signal);
    return { bytes, name: basename(label), origin: label };
  } finally {
    await handle.close();
  }
}

async function realRoots(roots: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const root of roots) {
    try {
      found.push(await realpath(root));
    } catch (error) {
      // A root that does not exist (yet) holds no file; any other failure is worth a retry.
      if (errorCode(error) === 'ENOENT') continue;
      throw new QuireError('source_unavailable', `source root ${JSON.stringify(root)} cannot be resolved`, {
        retryable: true,
        cause: error,
      });
    }
  }
  return found;
}

function checkRegularFile(label: string, stats: Stats): void {
  if (stats.isFile()) return;
  const what = stats.isDirectory()
    ? 'a directory'
    : stats.isFIFO()
      ? 'a FIFO'
      : stats.isSocket()
        ? 'a socket'
        : stats.isCharacterDevice() || stats.isBlockDevice()
          ? 'a device'
          : 'not a regular file';
  throw new DocumentError(label, 'source_forbidden', `path is ${what}; only regular files are read`);
}

/**
 * A hard link is the same file under a second name, and nothing says where the other name is: a
 * link made inside a root to a file outside it would escape like a symbolic link, but no path
 * resolution shows it. So a file with more than one link is refused, whatever the other name.
 */
function checkSingleLink(label: string, stats: Stats): void {
  if (stats.nlink <= 1) return;
  throw new DocumentError(
    label,
    'source_forbidden',
    `path is a hard link (the file has ${stats.nlink} names); only files with one name are read`,
  );
}

function checkSize(label: string, size: number, maxBytes: number): void {
  if (size > maxBytes) {
    throw new DocumentError(label, 'too_large', `file is ${size} bytes, more than the limit of ${maxBytes}`, {
      details: { bytes: size, maxBytes },
    });
  }
}

/** Reads to the end, but never more than `maxBytes`: the file may grow after the size check. */
async function readCapped(
  handle: FileHandle,
  label: string,
  expected: number,
  maxBytes: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  // One byte more than expected, so that growth shows in the first read.
  let chunkSize = Math.min(expected, maxBytes) + 1;
  for (;;) {
    signal?.throwIfAborted();
    const buffer = new Uint8Array(chunkSize);
    const { bytesRead } = await fsCall(label, () => handle.read(buffer, 0, buffer.byteLength, null));
    if (bytesRead === 0) break;
    total += bytesRead;
    if (total > maxBytes) {
      throw new DocumentError(
        label,
        'too_large',
        `file grew past the limit of ${maxBytes} bytes while being read`,
        {
          details: { maxBytes },
        },
      );
    }
    chunks.push(buffer.subarray(0, bytesRead));
    chunkSize = Math.min(GROWTH_CHUNK_BYTES, maxBytes - total + 1);
  }
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function pathsDisabled(label: string): DocumentError {
  return new DocumentError(
    label,
    'source_forbidden',
    'file paths are disabled: no source roots are configured',
  );
}

async function fsCall<T>(label: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fsError(label, error);
  }
}

function fsError(label: string, error: unknown): unknown {
  if (error instanceof QuireError) return error;
  const code = errorCode(error);
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new DocumentError(label, 'source_not_found', 'no such file', { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new DocumentError(label, 'source_forbidden', 'permission denied', { cause: error });
    case 'ELOOP':
      return new DocumentError(
        label,
        'source_forbidden',
        'too many symbolic links, or a link appeared while opening',
        {
          cause: error,
        },
      );
    case 'ENAMETOOLONG':
      return new DocumentError(label, 'invalid_input', 'path is too long', { cause: error });
    default:
      return new DocumentError(
        label,
        'source_unavailable',
        `file cannot be read (${code ?? 'unknown error'})`,
        {
          retryable: true,
          cause: error,
        },
      );
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
