/**
 * Sandbox task `ocr-tesseract`: the text of one image with Tesseract's command-line program (the
 * `tesseract` engine), and its mean word confidence. What happens around the engine (size checks,
 * scaling, orientation) is `readPage`'s (`ocr-image.ts`), shared with the tesseract.js task.
 *
 * Each reading is one run of `tesseract` (a process start and a model load, ~0.2–0.3 s, against
 * tesseract.js's ~0.6 s load and ~1 s first page in every new child), one OpenMP thread, the image
 * on standard input and the words as TSV on standard output: their text, their layout (block,
 * paragraph, line) and each word's confidence. The language data must be uncompressed
 * (`ocrLanguageDir(..., { uncompressed: true })`).
 */
import { type OcrTaskInput, type OcrTaskOutput, readPage } from './ocr-image.js';
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

export async function run(input: OcrTaskInput): Promise<OcrTaskOutput> {
  return readPage(input, {
    read: async (image) => {
      const result = await runTool(
        'tesseract',
        [
          'stdin',
          'stdout',
          '--tessdata-dir',
          input.langDir,
          '-l',
          input.langs.join('+'),
          '--oem',
          '1',
          // Find the layout first (PSM 3), as a scan needs.
          '--psm',
          '3',
          '-c',
          'tessedit_create_tsv=1',
          '-c',
          'tessedit_create_txt=0',
        ],
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
      return fromTsv(result.stdout.toString('utf8'));
    },
  });
}
