/**
 * Turns `quire ingest` arguments (files, directories, glob patterns, URLs) into the documents to
 * send, each with the id it will be known by.
 *
 * Document ids do not depend on the working directory, so that ingesting the same folder again
 * from anywhere replaces its documents instead of adding copies:
 * - a file named on the command line is known by its file name (`docs/guide.pdf` → `guide.pdf`);
 * - files found in a directory or by a glob by their path below it (`docs/` → `api/intro.md`);
 * - a URL by itself without credentials, query or fragment.
 * `--id-prefix` namespaces them; `--id` names a single document.
 */
import { realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { CliError } from './errors.js';

/**
 * Extensions picked up when walking a directory or expanding a glob (the formats the loaders read).
 * A file named explicitly is always sent: the worker decides, and says why it refuses one.
 */
export const DOCUMENT_EXTENSIONS: ReadonlySet<string> = new Set([
  '.pdf',
  '.docx',
  '.txt',
  '.text',
  '.md',
  '.markdown',
  '.mdown',
  '.mkd',
  '.html',
  '.htm',
  '.xhtml',
  '.csv',
  '.tsv',
  '.json',
  '.jsonl',
  '.ndjson',
  // Scans and photos of documents, read by OCR.
  '.png',
  '.jpg',
  '.jpeg',
  '.tif',
  '.tiff',
  '.webp',
]);

/** Never walked into: dependencies and version-control data are not documents. */
const IGNORED = ['**/node_modules/**', '**/.git/**'];

export type IngestInput =
  | {
      kind: 'file';
      /** Absolute path with symbolic links resolved. */
      path: string;
      /** How it was found: the file name, or the path below the directory or glob base (`/`-separated). */
      name: string;
      documentId: string;
      /** Bytes, as found when the argument was expanded. */
      size: number;
    }
  | { kind: 'url'; url: string; name: string; documentId: string };

export interface ExpandInputsOptions {
  /** Directory relative arguments are resolved against. */
  cwd: string;
  /** Prepended to every document id (e.g. `handbook/`). Default none. */
  idPrefix?: string;
  /** The id of the only document; only valid with exactly one. */
  id?: string;
  signal?: AbortSignal;
}

/** Expands the arguments in order, without duplicates; throws a CliError naming a bad argument. */
export async function expandInputs(
  args: readonly string[],
  options: ExpandInputsOptions,
): Promise<IngestInput[]> {
  if (args.length === 0) throw new CliError('nothing to ingest: give files, directories, globs or URLs', 2);
  const found: IngestInput[] = [];
  for (const arg of args) found.push(...(await expandOne(arg, options)));

  const unique: IngestInput[] = [];
  const seen = new Set<string>();
  for (const input of found) {
    const key = input.kind === 'file' ? `file:${input.path}` : `url:${input.url}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(input);
  }

  if (options.id !== undefined) {
    if (unique.length !== 1) {
      throw new CliError(`--id names one document, but the arguments give ${unique.length}`, 2);
    }
    unique[0]!.documentId = options.id;
  }
  const prefix = options.idPrefix ?? '';
  if (prefix !== '') for (const input of unique) input.documentId = prefix + input.documentId;

  const byId = new Map<string, IngestInput>();
  for (const input of unique) {
    const other = byId.get(input.documentId);
    if (other !== undefined) {
      throw new CliError(
        `${describe(other)} and ${describe(input)} would both be document ${JSON.stringify(input.documentId)}: ingest them separately with --id or --id-prefix`,
        2,
      );
    }
    byId.set(input.documentId, input);
  }
  return unique;
}

function describe(input: IngestInput): string {
  return input.kind === 'file' ? input.path : input.documentId;
}

async function expandOne(arg: string, options: ExpandInputsOptions): Promise<IngestInput[]> {
  if (/^https?:\/\//i.test(arg)) return [urlInput(arg)];
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) {
    throw new CliError(
      `${arg.split('://')[0]}:// URLs are not supported: use http(s) URLs or local files`,
      2,
    );
  }
  const absolute = resolve(options.cwd, arg);
  const stats = await stat(absolute).catch(() => undefined);
  if (stats?.isFile()) {
    return [await fileInput(absolute, baseName(absolute), stats.size)];
  }
  if (stats?.isDirectory()) {
    const files = await walk(absolute, '**/*', options.signal);
    if (files.length === 0) {
      throw new CliError(`directory ${arg} holds no documents (looked for ${extensionList()})`, 2);
    }
    return files;
  }
  if (stats !== undefined) throw new CliError(`${arg} is neither a file nor a directory`, 2);
  if (isDynamicPattern(arg)) {
    const { base, pattern } = splitGlob(arg, options.cwd);
    const files = await walk(base, pattern, options.signal);
    if (files.length === 0) throw new CliError(`pattern ${arg} matches no documents (${extensionList()})`, 2);
    return files;
  }
  throw new CliError(`no such file or directory: ${arg}`, 2);
}

function urlInput(text: string): IngestInput {
  if (!URL.canParse(text)) throw new CliError('a URL argument is not a valid URL', 2);
  const url = new URL(text);
  // The id is shown in listings and logs: never the credentials or a signed query.
  const documentId = `${url.protocol}//${url.host}${url.pathname}`;
  return { kind: 'url', url: text, name: documentId, documentId };
}

async function fileInput(path: string, name: string, size: number): Promise<IngestInput> {
  return { kind: 'file', path: await realpath(path), name, documentId: name, size };
}

async function walk(base: string, pattern: string, signal: AbortSignal | undefined): Promise<IngestInput[]> {
  const matches = await glob(pattern, {
    cwd: base,
    onlyFiles: true,
    dot: false,
    ignore: IGNORED,
    expandDirectories: false,
    ...(signal ? { signal } : {}),
  });
  matches.sort();
  const inputs: IngestInput[] = [];
  for (const match of matches) {
    if (!DOCUMENT_EXTENSIONS.has(extname(match).toLowerCase())) continue;
    const path = join(base, match);
    const stats = await stat(path).catch(() => undefined);
    if (!stats?.isFile()) continue;
    inputs.push(await fileInput(path, toId(relative(base, path)), stats.size));
  }
  return inputs;
}

/** Splits a glob into its literal leading directories and the rest: `docs/**\/*.md` → `docs`, `**\/*.md`. */
export function splitGlob(arg: string, cwd: string): { base: string; pattern: string } {
  const segments = arg.split(/[\\/]/);
  const literal: string[] = [];
  while (segments.length > 1 && !isDynamicPattern(segments[0]!)) literal.push(segments.shift()!);
  const joined = literal.join('/');
  const base = isAbsolute(arg) ? resolve('/', joined) : resolve(cwd, joined);
  return { base, pattern: segments.join('/') };
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf(sep) + 1);
}

function toId(relativePath: string): string {
  return relativePath.split(sep).join('/');
}

function extensionList(): string {
  return [...DOCUMENT_EXTENSIONS].join(' ');
}
