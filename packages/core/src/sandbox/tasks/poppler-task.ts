/**
 * Sandbox task `pdf-poppler`: the text of each page of a PDF with the `poppler` engine, Poppler's
 * command-line tools. Most files take one `pdftotext -htmlmeta` run: the title in its header, the
 * pages' text (each ending in a form feed) in its body. A file whose pages may be cropped (see
 * `mayCropPages`: the boxes in the file and in its object streams), or that this run cannot read
 * (a password error, damage, too many pages or characters), takes the full path: `pdfinfo` (page
 * count, title, page boxes, password check), then `pdftotext` for the text of the pages inside
 * their crop boxes (one run for each stretch of pages with the same crop box). Either way, when the
 * verdict depends on it, `pdfimages -list`.
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
import type { PdfTaskInput, PdfTaskOutput } from '../../loaders/pdf-engine-types.js';
import { mayCropPages } from '../../loaders/pdf-page-boxes.js';
import { needsImageCheck, type PdfPageText, pagesWithoutText } from '../../loaders/pdf-text-quality.js';
import { TaskFailure } from '../protocol.js';
import { outOfMemory, runTool, type ToolResult } from './tool.js';

/** Default address-space cap of a tool when the task is given none, in MiB. */
const DEFAULT_TOOL_MEMORY_MB = 512;
/** Text bytes read per character allowed: UTF-8 takes up to 4 bytes, plus form feeds and newlines. */
const BYTES_PER_CHAR = 4;
/** Bytes of `pdftotext -htmlmeta`'s header (title and other metadata) allowed beside the text. */
const HTML_HEADER_BYTES = 64 << 10;

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

/** The visible area of a page inside its media box, in points from the top left (pdftotext's crop). */
interface Crop {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Info {
  pageCount: number;
  title: string | null;
  /** Arguments that give the accepted password (empty when none is needed). */
  passwordArgs: string[];
  /** Per page (index 0 = page 1): the crop box when it is smaller than the media box, else null. */
  crops: Array<Crop | null>;
}

/**
 * Crop boxes from `pdfinfo -box`: text outside a page's crop box (printers' slug lines, crop marks)
 * is not part of the page a reader sees, and pdf.js leaves it out too. Rotated pages are not
 * cropped (pdftotext's crop area is in unrotated coordinates only for rotation 0).
 */
function parseCrops(text: string, pageCount: number): Array<Crop | null> {
  const boxes = new Map<number, { media?: number[]; crop?: number[]; rot?: number }>();
  const entry = (page: number) => {
    let box = boxes.get(page);
    if (box === undefined) {
      box = {};
      boxes.set(page, box);
    }
    return box;
  };
  for (const line of text.split('\n')) {
    const match = /^Page\s+(\d+)\s+(MediaBox|CropBox|rot):\s+(.*)$/.exec(line);
    if (match === null) continue;
    const box = entry(Number(match[1]));
    const values = match[3]!.trim().split(/\s+/).map(Number);
    if (match[2] === 'rot') box.rot = values[0] ?? 0;
    else if (values.length === 4 && values.every(Number.isFinite)) {
      if (match[2] === 'MediaBox') box.media = values;
      else box.crop = values;
    }
  }
  const crops: Array<Crop | null> = [];
  for (let page = 1; page <= pageCount; page++) {
    const { media, crop, rot } = boxes.get(page) ?? {};
    if (media === undefined || crop === undefined || (rot ?? 0) % 360 !== 0) {
      crops.push(null);
      continue;
    }
    const [mx0, , , my1] = media as [number, number, number, number];
    const [cx0, cy0, cx1, cy1] = crop as [number, number, number, number];
    const same = media.every((value, i) => Math.abs(value - crop[i]!) < 1);
    crops.push(same ? null : { x: cx0 - mx0, y: my1 - cy1, width: cx1 - cx0, height: cy1 - cy0 });
  }
  return crops;
}

function sameCrop(a: Crop | null, b: Crop | null): boolean {
  if (a === null || b === null) return a === b;
  return a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
}

function cropArgs(crop: Crop | null): string[] {
  if (crop === null) return [];
  // pdftotext's crop area is in pixels at -r (72 dpi: points), from the page's top left.
  return [
    '-x',
    String(Math.floor(crop.x)),
    '-y',
    String(Math.floor(crop.y)),
    '-W',
    String(Math.ceil(crop.width)),
    '-H',
    String(Math.ceil(crop.height)),
  ];
}

/** Opens the file with `pdfinfo`, trying each password, and last none (an owner password only). */
async function readInfo(input: PdfTaskInput, maxMemoryMb: number): Promise<Info> {
  let last: ToolResult | undefined;
  for (const password of [...input.passwords, undefined]) {
    const passwordArgs = password === undefined ? [] : ['-upw', password];
    const result = await runTool(
      'pdfinfo',
      // Boxes of at most one page past the limit: a longer document fails on its count anyway.
      ['-enc', 'UTF-8', '-box', '-f', '1', '-l', String(input.maxPages + 1), ...passwordArgs, '-'],
      input.data,
      { maxMemoryMb, maxOutputBytes: 32 << 20 },
    );
    if (result.code === 0) {
      const text = result.stdout.toString('utf8');
      const pages = /^Pages:\s+(\d+)/m.exec(text);
      const title = /^Title:\s+(.*)$/m.exec(text)?.[1]?.trim();
      const pageCount = pages?.[1] === undefined ? 0 : Number(pages[1]);
      return {
        pageCount,
        title: title === undefined || title === '' ? null : title,
        crops: pageCount <= input.maxPages ? parseCrops(text, pageCount) : [],
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
  const memory = last === undefined ? undefined : outOfMemory(last, maxMemoryMb);
  if (memory !== undefined) throw memory;
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
    { maxMemoryMb, maxOutputBytes: 16 << 20 },
  );
  if (result.code !== 0 || result.overflow) return null;
  const pages = new Set<number>();
  for (const line of result.stdout.toString('utf8').split('\n').slice(2)) {
    const page = Number(/^\s*(\d+)\s/.exec(line)?.[1]);
    if (Number.isInteger(page)) pages.add(page);
  }
  return pages;
}

const HTML_ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&apos;': "'",
};

/**
 * The pages' text and title from one `pdftotext -htmlmeta` run, trying each password and last none,
 * `'overflow'` when its output passed the cap (more than `maxChars` of text), or null when this
 * run cannot settle it (a password error on every try, a tool error, more than `maxPages` pages):
 * the full path then decides with Poppler's own words.
 */
async function readTextAndTitle(
  input: PdfTaskInput,
  maxMemoryMb: number,
): Promise<
  { title: string | null; texts: string[]; passwordArgs: string[]; stderr: string } | 'overflow' | null
> {
  const budget = input.maxChars * BYTES_PER_CHAR + input.maxPages + 1 + HTML_HEADER_BYTES;
  for (const password of [...input.passwords, undefined]) {
    const passwordArgs = password === undefined ? [] : ['-upw', password];
    const result = await runTool(
      'pdftotext',
      [
        '-htmlmeta',
        '-enc',
        'UTF-8',
        '-eol',
        'unix',
        '-f',
        '1',
        '-l',
        String(input.maxPages + 1),
        ...passwordArgs,
        '-',
        '-',
      ],
      input.data,
      { maxMemoryMb, maxOutputBytes: budget },
    );
    if (result.overflow) return 'overflow';
    if (result.code !== 0) {
      if (isPasswordError(result.stderr)) continue;
      return null;
    }
    const output = result.stdout.toString('utf8');
    // The header is HTML (its values escaped); the text between `<pre>` and the last `</pre>` is as
    // plain pdftotext prints it, every page ending in a form feed.
    const start = output.indexOf('<pre>\n');
    const end = output.lastIndexOf('</pre>');
    if (start === -1 || end < start + 6) return null;
    const texts = output.slice(start + 6, end).split('\f');
    if (texts.pop() !== '' || texts.length > input.maxPages) return null;
    // Its first line, as `pdfinfo` prints it (the full path's title).
    const rawTitle = /<title>([^<\n]*)/.exec(output.slice(0, start))?.[1] ?? '';
    const title = rawTitle.replace(/&(?:amp|lt|gt|quot|apos);/g, (entity) => HTML_ENTITIES[entity]!).trim();
    return { title: title === '' ? null : title, texts, passwordArgs, stderr: result.stderr };
  }
  return null;
}

function tooManyPages(pageCount: number, limit: number): TaskFailure {
  return new TaskFailure(
    'too_many_pages',
    `has ${pageCount} pages, more than the limit of ${limit} (maxPages)`,
    {
      pageCount,
      limit,
    },
  );
}

function tooManyChars(limit: number): TaskFailure {
  return new TaskFailure('too_many_chars', `has more than ${limit} characters of text (limit maxChars)`, {
    limit,
  });
}

export async function run(input: PdfTaskInput): Promise<PdfTaskOutput> {
  const maxMemoryMb = input.maxMemoryMb ?? DEFAULT_TOOL_MEMORY_MB;
  if (!mayCropPages(input.data)) {
    const read = await readTextAndTitle(input, maxMemoryMb);
    if (read === 'overflow') {
      // Too much text: only the page count (and a password problem) may say more; the text is not
      // read again.
      const info = await readInfo(input, maxMemoryMb);
      if (info.pageCount > input.maxPages) throw tooManyPages(info.pageCount, input.maxPages);
      throw tooManyChars(input.maxChars);
    }
    if (read !== null) {
      if (read.texts.length === 0) return { engine: 'poppler', pageCount: 0, title: read.title, pages: [] };
      const info: Info = {
        pageCount: read.texts.length,
        title: read.title,
        passwordArgs: read.passwordArgs,
        crops: [],
      };
      return finish(input, info, read.texts, read.stderr, maxMemoryMb);
    }
  }
  const info = await readInfo(input, maxMemoryMb);
  if (info.pageCount > input.maxPages) throw tooManyPages(info.pageCount, input.maxPages);
  if (info.pageCount === 0) return { engine: 'poppler', pageCount: 0, title: info.title, pages: [] };
  let stderrSeen = '';

  // One pdftotext run per stretch of pages with the same crop box: one run for most documents.
  const runs: Array<{ first: number; last: number; crop: Crop | null }> = [];
  for (let page = 1; page <= info.pageCount; page++) {
    const crop = info.crops[page - 1] ?? null;
    const previous = runs[runs.length - 1];
    if (previous !== undefined && sameCrop(previous.crop, crop)) previous.last = page;
    else runs.push({ first: page, last: page, crop });
  }
  const texts: string[] = [];
  let budget = input.maxChars * BYTES_PER_CHAR + info.pageCount;
  for (const run of runs) {
    const result = await runTool(
      'pdftotext',
      [
        '-enc',
        'UTF-8',
        '-eol',
        'unix',
        '-f',
        String(run.first),
        '-l',
        String(run.last),
        ...cropArgs(run.crop),
        ...info.passwordArgs,
        '-',
        '-',
      ],
      input.data,
      { maxMemoryMb, maxOutputBytes: budget },
    );
    if (result.overflow) throw tooManyChars(input.maxChars);
    const memory = outOfMemory(result, maxMemoryMb);
    if (memory !== undefined) throw memory;
    if (result.code !== 0) {
      failOnUnknownFilter(result.stderr);
      throw new TaskFailure('corrupt', 'is damaged: Poppler could not read its pages', {
        engineMessage: rawMessage(result.stderr),
      });
    }
    budget -= result.stdout.length;
    stderrSeen += result.stderr;
    // Each page ends in a form feed; a page Poppler could not read is empty, like a blank one.
    const pagesText = result.stdout.toString('utf8').split('\f');
    for (let page = run.first; page <= run.last; page++) texts.push(pagesText[page - run.first] ?? '');
  }
  return finish(input, info, texts, stderrSeen, maxMemoryMb);
}

/** The pages from their texts, checked against `maxChars`, with the image check when it matters. */
async function finish(
  input: PdfTaskInput,
  info: Info,
  texts: string[],
  stderrSeen: string,
  maxMemoryMb: number,
): Promise<PdfTaskOutput> {
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
  if (bare.length > 0 && needsImageCheck(pages)) {
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
  if (bare.length === pages.length) failOnUnknownFilter(stderrSeen);
  return { engine: 'poppler', pageCount: info.pageCount, title: info.title, pages };
}
