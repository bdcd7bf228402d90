/**
 * Sandbox task `ocr-tesseract`: the text of one image with Tesseract's command-line program (the
 * `tesseract` engine), and its mean word confidence. What happens around the engine (size checks,
 * scaling, orientation) is `readPage`'s (`ocr-image.ts`), shared with the tesseract.js task.
 *
 * Each reading is one run of `tesseract` (a process start and a model load, ~0.2–0.3 s, against
 * tesseract.js's ~0.6 s load and ~1 s first page in every new child), one OpenMP thread, the image
 * on standard input and the words as TSV on standard output: their text, their layout (block,
 * paragraph, line) and each word's confidence. The four small copies a page's orientation is judged
 * on go in one run, as the pages of one TIFF (one model load instead of four). The language data
 * must be uncompressed (`ocrLanguageDir(..., { uncompressed: true })`).
 */
import { type OcrTaskInput, type OcrTaskOutput, pgmHeader, readPage } from './ocr-image.js';
import { outOfMemory, runTool } from './tool.js';

/** TSV output read at most per reading: a dense A4 page is ~100 KiB. */
const MAX_TSV_BYTES = 16 << 20;

/**
 * The text and mean word confidence of Tesseract's TSV: words joined by spaces, lines by line
 * breaks, a blank line after each paragraph (as Tesseract's own text output), and the
 * mean of the words' confidences (its `MeanTextConf`).
 */
export function fromTsv(tsv: string): { text: string; confidence: number } {
  const lines: string[] = [];
  let line: string[] = [];
  let at: string | undefined;
  let paragraph: string | undefined;
  let confidenceSum = 0;
  let words = 0;
  const endLine = () => {
    if (line.length > 0) lines.push(line.join(' '));
    line = [];
  };
  for (const row of tsv.split('\n')) {
    const cells = row.split('\t');
    // level, page, block, paragraph, line, word, left, top, width, height, confidence, text
    if (cells.length < 12 || cells[0] !== '5') continue;
    const text = cells.slice(11).join('\t').trim();
    const confidence = Number(cells[10]);
    if (text === '' || !Number.isFinite(confidence) || confidence < 0) continue;
    const thisParagraph = `${cells[1]}.${cells[2]}.${cells[3]}`;
    const thisLine = `${thisParagraph}.${cells[4]}`;
    if (thisLine !== at) {
      endLine();
      if (paragraph !== undefined && thisParagraph !== paragraph) lines.push('');
      at = thisLine;
      paragraph = thisParagraph;
    }
    line.push(text);
    confidenceSum += confidence;
    words++;
  }
  endLine();
  // Each paragraph, the last too, ends in a blank line.
  if (lines.length > 0) lines.push('');
  return {
    text: lines.length === 0 ? '' : `${lines.join('\n')}\n`,
    confidence: words === 0 ? 0 : confidenceSum / words,
  };
}

/** Words' TSV rows by the page (of a multi-page image) they are on, in page order. */
export function tsvPages(tsv: string, pageCount: number): string[] {
  const pages: string[][] = Array.from({ length: pageCount }, () => []);
  for (const row of tsv.split('\n')) {
    const page = Number(row.split('\t', 2)[1]);
    if (Number.isInteger(page) && page >= 1 && page <= pageCount) pages[page - 1]!.push(row);
  }
  return pages.map((rows) => rows.join('\n'));
}

/**
 * PGM images as one multi-page TIFF (8-bit grey, uncompressed, one strip a page, little-endian),
 * which Tesseract reads from standard input page by page.
 */
export function greyTiff(images: readonly Buffer[]): Buffer {
  const ENTRIES = 8;
  const ifdBytes = 2 + ENTRIES * 12 + 4;
  const pages = images.map((image) => {
    const header = pgmHeader(image);
    if (header === undefined) throw new Error('an orientation copy is not a PGM image');
    return { ...header, pixels: image.subarray(header.offset, header.offset + header.width * header.height) };
  });
  let size = 8;
  const places = pages.map((page) => {
    const ifd = size;
    const data = ifd + ifdBytes;
    size = data + page.pixels.length + ((data + page.pixels.length) % 2);
    return { ifd, data };
  });
  const tiff = Buffer.alloc(size);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(places[0]?.ifd ?? 0, 4);
  pages.forEach((page, i) => {
    const { ifd, data } = places[i]!;
    // Tag, type (3 SHORT, 4 LONG), value: width, height, 8 bits a sample, no compression,
    // black is zero, the strip's offset, rows in it, its bytes.
    const entries: Array<[number, number, number]> = [
      [256, 4, page.width],
      [257, 4, page.height],
      [258, 3, 8],
      [259, 3, 1],
      [262, 3, 1],
      [273, 4, data],
      [278, 4, page.height],
      [279, 4, page.pixels.length],
    ];
    tiff.writeUInt16LE(ENTRIES, ifd);
    entries.forEach(([tag, type, value], k) => {
      const at = ifd + 2 + k * 12;
      tiff.writeUInt16LE(tag, at);
      tiff.writeUInt16LE(type, at + 2);
      tiff.writeUInt32LE(1, at + 4);
      if (type === 3) tiff.writeUInt16LE(value, at + 8);
      else tiff.writeUInt32LE(value, at + 8);
    });
    tiff.writeUInt32LE(places[i + 1]?.ifd ?? 0, ifd + 2 + ENTRIES * 12);
    page.pixels.copy(tiff, data);
  });
  return tiff;
}

/** The program's arguments: the image on standard input, its words as TSV on standard output. */
export function tesseractArgs(langDir: string, langs: readonly string[]): string[] {
  return [
    'stdin',
    'stdout',
    '--tessdata-dir',
    langDir,
    '-l',
    langs.join('+'),
    '--oem',
    '1',
    // Find the layout first (PSM 3), as a scan needs.
    '--psm',
    '3',
    '-c',
    'tessedit_create_tsv=1',
    '-c',
    'tessedit_create_txt=0',
  ];
}

/** Tesseract's TSV of an image (PGM, or a TIFF of several pages). */
async function runTesseract(input: OcrTaskInput, image: Buffer): Promise<string> {
  const result = await runTool(
    'tesseract',
    tesseractArgs(input.langDir, input.langs),
    image,
    // One thread: pages run side by side in the sandbox's children instead.
    { maxMemoryMb: input.maxMemoryMb, maxOutputBytes: MAX_TSV_BYTES, env: { OMP_THREAD_LIMIT: '1' } },
  );
  if (result.overflow) throw new Error(`tesseract wrote more than ${MAX_TSV_BYTES} bytes of output`);
  if (result.code === 126) throw new Error('could not set the memory limit of tesseract');
  // Past its address-space limit Tesseract aborts (std::bad_alloc), cannot even load its
  // libraries, or goes on without the images Leptonica failed to allocate (and exits 0).
  const memory = outOfMemory(result, input.maxMemoryMb);
  if (memory !== undefined) throw memory;
  if (result.code !== 0) {
    const message =
      result.stderr
        .split('\n')
        .map((line) => line.trim())
        .find((line) => line !== '' && !line.startsWith('Estimating resolution')) ??
      `exit code ${result.code}`;
    throw new Error(`tesseract could not read the image: ${message.slice(0, 300)}`);
  }
  return result.stdout.toString('utf8');
}

export async function run(input: OcrTaskInput): Promise<OcrTaskOutput> {
  return readPage(input, {
    read: async (image) => fromTsv(await runTesseract(input, image)),
    readAll: async (images) =>
      tsvPages(await runTesseract(input, greyTiff(images)), images.length).map((page) => fromTsv(page)),
  });
}
