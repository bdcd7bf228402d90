/**
 * Sandbox task `ocr`: the text of one image (a page of a scanned PDF rendered by the parent as PGM,
 * or a frame of an image file) with tesseract.js, and its mean word confidence. What happens around
 * the engine (size checks, scaling, orientation) is `readPage`'s (`ocr-image.ts`), shared with the
 * `ocr-tesseract` task.
 *
 * The Tesseract worker stays loaded between tasks for the same languages (the sandbox keeps an OCR
 * child for that), unless the process holds more than `keepRssShare` of its memory cap after a
 * page: WebAssembly memory never shrinks, so the worker is then ended and the next page starts a
 * fresh one.
 */
import type { Worker } from 'tesseract.js';
import { type OcrTaskInput, type OcrTaskOutput, readPage } from './ocr-image.js';

export type { OcrTaskInput, OcrTaskOutput } from './ocr-image.js';

let current: { key: string; worker: Promise<Worker> } | undefined;

async function workerFor(langs: string[], langDir: string): Promise<Worker> {
  const key = `${langDir}\0${langs.join('+')}`;
  if (current?.key === key) return current.worker;
  await endWorker();
  const { createWorker, OEM, PSM } = await import('tesseract.js');
  // Language data from the local directory only; nothing fetched, nothing written ('none').
  const worker = createWorker(langs.join('+'), OEM.LSTM_ONLY, {
    langPath: langDir,
    gzip: false,
    cacheMethod: 'none',
  }).then(async (created) => {
    // Tesseract's library default is one uniform block of text (PSM 6), which reads pictures and
    // margins as lines; its command-line program finds the layout first (PSM 3), as a scan needs.
    await created.setParameters({ tessedit_pageseg_mode: PSM.AUTO });
    return created;
  });
  current = { key, worker };
  return worker;
}

async function endWorker(): Promise<void> {
  const ending = current;
  current = undefined;
  if (ending !== undefined) await (await ending.worker).terminate();
}

export async function run(input: OcrTaskInput): Promise<OcrTaskOutput> {
  const cap = input.maxMemoryMb * 2 ** 20;
  try {
    return await readPage(input, {
      read: async (image) => {
        const worker = await workerFor(input.langs, input.langDir);
        const { data } = await worker.recognize(image, {}, { text: true });
        return { text: data.text, confidence: data.confidence };
      },
      beforeFullRead: async () => {
        if (process.memoryUsage().rss > cap * 0.5) await endWorker();
      },
    });
  } finally {
    if (process.memoryUsage().rss > cap * input.keepRssShare) await endWorker();
  }
}
