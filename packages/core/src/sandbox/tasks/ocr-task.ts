/**
 * Sandbox task `ocr`: the text of one image (a page of a scanned PDF rendered by the parent, or a
 * frame of an image file) with tesseract.js, and its mean word confidence. The image is checked
 * against the pixel limit from its header before it is decoded (sharp, libvips). A page that reads
 * poorly upright is tried turned by 180°, 90° and 270° (scanned upside down or sideways), and the
 * best reading wins. The Tesseract worker stays loaded between tasks for the same languages.
 */
import sharp, { type Metadata } from 'sharp';
import type { Worker } from 'tesseract.js';
import { TaskFailure } from '../protocol.js';

export interface OcrTaskInput {
  image: Uint8Array;
  /** 0-based frame of a multi-page image (TIFF); 0 otherwise. */
  frame: number;
  langs: string[];
  /** A directory holding `<lang>.traineddata` for every language (see `ocrLanguageDir`). */
  langDir: string;
  maxPixels: number;
  /** Below this mean confidence the page is also tried turned. */
  retryTurnedBelow: number;
}

export interface OcrTaskOutput {
  text: string;
  /** Mean word confidence, 0–100 (0 when no word was found). */
  confidence: number;
  /** Clockwise turn applied before reading, in degrees. */
  rotation: 0 | 90 | 180 | 270;
  width: number;
  height: number;
}

let current: { key: string; worker: Promise<Worker> } | undefined;

async function workerFor(langs: string[], langDir: string): Promise<Worker> {
  const key = `${langDir}\0${langs.join('+')}`;
  if (current?.key === key) return current.worker;
  if (current !== undefined) await (await current.worker).terminate();
  const { createWorker, OEM } = await import('tesseract.js');
  // Language data from the local directory only; nothing fetched, nothing written ('none').
  const worker = createWorker(langs.join('+'), OEM.LSTM_ONLY, {
    langPath: langDir,
    gzip: false,
    cacheMethod: 'none',
  });
  current = { key, worker };
  return worker;
}

/** Decodes a frame to an 8-bit grey PNG, turned clockwise by `rotation`, refusing too many pixels first. */
async function decode(input: OcrTaskInput, rotation: number): Promise<Buffer> {
  return sharp(input.image, { page: input.frame, limitInputPixels: input.maxPixels })
    .rotate(rotation)
    .greyscale()
    .png({ compressionLevel: 1 })
    .toBuffer();
}

export async function run(input: OcrTaskInput): Promise<OcrTaskOutput> {
  let meta: Metadata;
  try {
    meta = await sharp(input.image, { page: input.frame }).metadata();
  } catch (error) {
    throw new TaskFailure('corrupt', `is not a readable image: ${(error as Error).message}`);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > input.maxPixels) {
    throw new TaskFailure(
      'too_large',
      `has an image of ${width} × ${height} pixels, more than the limit of ${input.maxPixels} pixels`,
      { width, height, limit: input.maxPixels },
    );
  }
  const worker = await workerFor(input.langs, input.langDir);
  let best: OcrTaskOutput | undefined;
  for (const rotation of [0, 180, 90, 270] as const) {
    let png: Buffer;
    try {
      png = await decode(input, rotation);
    } catch (error) {
      throw new TaskFailure('corrupt', `is not a readable image: ${(error as Error).message}`);
    }
    const { data } = await worker.recognize(png, {}, { text: true });
    const words = data.text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
    const confidence = words === 0 ? 0 : data.confidence;
    if (best === undefined || confidence > best.confidence) {
      best = { text: data.text, confidence, rotation, width, height };
    }
    if (best.confidence >= input.retryTurnedBelow) break;
  }
  return best as OcrTaskOutput;
}
