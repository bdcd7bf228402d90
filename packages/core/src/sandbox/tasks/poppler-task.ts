/**
 * Sandbox task `pdf-poppler`: the text of each page of a PDF with the `poppler` engine, Poppler's
 * command-line tools: `pdfinfo` (page count, title, password check), one `pdftotext` run for all
 * pages (pages end in form feeds) and, for pages with (almost) no text, `pdfimages -list`.
 *
 * The tools run as children of the sandbox child, in its process group: the sandbox kills the
 * whole group on its time limit, memory cap or abort, so no tool outlives its task. Its RSS
 * watchdog only sees the sandbox child, so each tool gets the task's memory cap as its own
 * address-space limit (`ulimit -v`, enforced by the kernel), and its output is read under a byte
 * cap. The file goes in on standard input and never touches the disk.
 *
 * A password reaches the tools on their command line (`-upw`, Poppler has no other way), where
 * processes of the same user in the same PID namespace can read it for the tool's lifetime (a
 * container holds the worker's own processes only). See the loaders' README.
 */
import { spawn } from 'node:child_process';
import type { PdfTaskInput, PdfTaskOutput } from '../../loaders/pdf-engine-types.js';
import { needsImageCheck, type PdfPageText, pagesWithoutText } from '../../loaders/pdf-text-quality.js';
import { TaskFailure } from '../protocol.js';

/** Default address-space cap of a tool when the task is given none, in MiB. */
const DEFAULT_TOOL_MEMORY_MB = 512;
/** Text bytes read per character allowed: UTF-8 takes up to 4 bytes, plus form feeds and newlines. */
const BYTES_PER_CHAR = 4;
/** Standard error kept for the raw message, in bytes. */
const STDERR_BYTES = 4096;

interface ToolResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** The output passed `maxOutputBytes` and the tool was stopped. */
  overflow: boolean;
}

/**
 * Runs a Poppler tool with `data` on standard input, under an address-space limit, reading at most
 * `maxOutputBytes` of its output.
 */
function runTool(
  tool: string,
  args: string[],
  data: Uint8Array,
  maxMemoryMb: number,
  maxOutputBytes: number,
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    // The limit is set by the shell that then becomes the tool (`exec`); arguments travel as
    // arguments, never through the shell's parser.
    const child = spawn(
      '/bin/sh',
      ['-c', 'ulimit -v "$1" || exit 126; shift; exec "$@"', 'sh', String(maxMemoryMb * 1024), tool, ...args],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C.UTF-8' },
      },
    );
    const out: Buffer[] = [];
    let outBytes = 0;
    let overflow = false;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (overflow) return;
      outBytes += chunk.length;
      if (outBytes > maxOutputBytes) {
        overflow = true;
        child.kill('SIGKILL');
        return;
      }
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_BYTES)
        stderr += chunk.toString('utf8').slice(0, STDERR_BYTES - stderr.length);
    });
    // A tool that stops reading early (a damaged file) closes its input: not an error of ours.
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr, overflow }));
    child.stdin.end(data);
  });
}

/** The first line of a tool's standard error that says what went wrong (its raw message). */
function rawMessage(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim());
  return (
    lines.find((line) => /error/i.test(line) && !/^Syntax Warning/i.test(line)) ??
    lines.find((line) => line !== '') ??
    'no message'
  ).slice(0, 300);
}

function isPasswordError(stderr: string): boolean {
  return /incorrect password/i.test(stderr);
}

/** A filter Poppler does not know, e.g. `Unknown filter 'BrotliDecode'`. */
function unknownFilter(stderr: string): string | undefined {
  return /unknown filter '([^']{1,64})'/i.exec(stderr)?.[1];
}

function failOnUnknownFilter(stderr: string): void {
  const filter = unknownFilter(stderr);
  if (filter !== undefined) {
    throw new TaskFailure(
      'unsupported_feature',
      `is compressed with the ${filter} filter, which Quire's PDF engines cannot decode`,
      { filter, engineMessage: rawMessage(stderr) },
    );
  }
}

interface Info {
  pageCount: number;
  title: string | null;
  /** Arguments that give the accepted password (empty when none is needed). */
  passwordArgs: string[];
}

/** Opens the file with `pdfinfo`, trying each password, and last none (an owner password only). */
async function readInfo(input: PdfTaskInput, maxMemoryMb: number): Promise<Info> {
  let last: ToolResult | undefined;
  for (const password of [...input.passwords, undefined]) {
    const passwordArgs = password === undefined ? [] : ['-upw', password];
    const result = await runTool(
      'pdfinfo',
      ['-enc', 'UTF-8', ...passwordArgs, '-'],
      input.data,
      maxMemoryMb,
      1 << 20,
    );
    if (result.code === 0) {
      const text = result.stdout.toString('utf8');
      const pages = /^Pages:\s+(\d+)/m.exec(text);
      const title = /^Title:\s+(.*)$/m.exec(text)?.[1]?.trim();
      return {
        pageCount: pages?.[1] === undefined ? 0 : Number(pages[1]),
        title: title === undefined || title === '' ? null : title,
        passwordArgs,
      };
    }
    last = result;
    if (!isPasswordError(result.stderr)) break;
  }
  const stderr = last?.stderr ?? '';
  if (isPasswordError(stderr)) {
    if (input.passwords.length === 0) {
      throw new TaskFailure('encrypted', 'the PDF is password-protected; give its password');
    }
    throw new TaskFailure('wrong_password', 'the password is not right for this PDF');
  }
  if (last?.code === 126) throw new Error('could not set the memory limit of pdfinfo');
  failOnUnknownFilter(stderr);
  throw new TaskFailure('corrupt', 'is damaged: Poppler found no document in it', {
    engineMessage: rawMessage(stderr),
  });
}

/** Pages that paint an image, from `pdfimages -list` (images are listed, not decoded). */
async function pagesWithImages(
  input: PdfTaskInput,
  info: Info,
  first: number,
  last: number,
  maxMemoryMb: number,
): Promise<Set<number> | null> {
  const result = await runTool(
    'pdfimages',
    ['-list', '-f', String(first), '-l', String(last), ...info.passwordArgs, '-'],
    input.data,
    maxMemoryMb,
    16 << 20,
  );
  if (result.code !== 0 || result.overflow) return null;
  const pages = new Set<number>();
  for (const line of result.stdout.toString('utf8').split('\n').slice(2)) {
    const page = Number(/^\s*(\d+)\s/.exec(line)?.[1]);
    if (Number.isInteger(page)) pages.add(page);
  }
  return pages;
}

export async function run(input: PdfTaskInput): Promise<PdfTaskOutput> {
  const maxMemoryMb = input.maxMemoryMb ?? DEFAULT_TOOL_MEMORY_MB;
  const info = await readInfo(input, maxMemoryMb);
  if (info.pageCount > input.maxPages) {
    throw new TaskFailure(
      'too_many_pages',
      `has ${info.pageCount} pages, more than the limit of ${input.maxPages} (maxPages)`,
      { pageCount: info.pageCount, limit: input.maxPages },
    );
  }
  if (info.pageCount === 0) return { engine: 'poppler', pageCount: 0, title: info.title, pages: [] };

  const result = await runTool(
    'pdftotext',
    [
      '-enc',
      'UTF-8',
      '-eol',
      'unix',
      '-f',
      '1',
      '-l',
      String(info.pageCount),
      ...info.passwordArgs,
      '-',
      '-',
    ],
    input.data,
    maxMemoryMb,
    input.maxChars * BYTES_PER_CHAR + info.pageCount,
  );
  if (result.overflow) {
    throw new TaskFailure(
      'too_many_chars',
      `has more than ${input.maxChars} characters of text (limit maxChars)`,
      { limit: input.maxChars },
    );
  }
  if (result.code !== 0) {
    failOnUnknownFilter(result.stderr);
    throw new TaskFailure('corrupt', 'is damaged: Poppler could not read its pages', {
      engineMessage: rawMessage(result.stderr),
    });
  }
  // Each page ends in a form feed; a page Poppler could not read is empty, like a blank one.
  const texts = result.stdout.toString('utf8').split('\f');
  const pages: PdfPageText[] = [];
  let chars = 0;
  for (let page = 1; page <= info.pageCount; page++) {
    const text = texts[page - 1] ?? '';
    chars += text.length;
    if (chars > input.maxChars) {
      throw new TaskFailure(
        'too_many_chars',
        `has more than ${input.maxChars} characters of text (limit maxChars), reached on page ${page}`,
        { limit: input.maxChars, page },
      );
    }
    pages.push({ page, text });
  }
  // A scan or a blank document: pdfimages tells which pages paint images.
  const bare = pagesWithoutText(pages);
  if (needsImageCheck(pages) && bare.length > 0) {
    const withImages = await pagesWithImages(
      input,
      info,
      bare[0]!.page,
      bare[bare.length - 1]!.page,
      maxMemoryMb,
    );
    for (const entry of bare) entry.images = withImages === null ? null : withImages.has(entry.page);
  }
  // Poppler reads past a filter it does not know and leaves its content out: name it when that
  // left pages empty.
  if (bare.length === pages.length) failOnUnknownFilter(result.stderr);
  return { engine: 'poppler', pageCount: info.pageCount, title: info.title, pages };
}
