/**
 * What both OCR tasks (`ocr`: tesseract.js, `ocr-tesseract`: Tesseract's command-line program) do
 * around the engine: the image's size checked from its header before anything is decoded (sharp,
 * libvips, for image files), scaled down to the pixels Tesseract may read, handed over as an
 * uncompressed grey image (PGM); and a page that reads poorly upright tried turned by 180°, 90° and
 * 270° (scanned upside down or sideways), the orientation judged on small copies and the best one
 * read in full.
 */
import sharp, { type Metadata } from 'sharp';
import { TaskFailure } from '../protocol.js';

export interface OcrTaskInput {
  /** PGM (binary, 8-bit grey) or an image file: PNG, JPEG, TIFF, WebP. */
  image: Uint8Array;
  /** 0-based frame of a multi-page image (TIFF); 0 otherwise. */
  frame: number;
  langs: string[];
  /** A directory holding `<lang>.traineddata` for every language (see `ocrLanguageDir`). */
  langDir: string;
  maxPixels: number;
  /** An image with more pixels is scaled down to this many before it is read. */
  maxOcrPixels: number;
  /** The task's memory cap, in MiB. */
  maxMemoryMb: number;
  /** Past this share of the cap after a page, the Tesseract worker is ended (0–1). */
  keepRssShare: number;
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

/** An upright reading under this mean confidence is tried turned. */
const TRY_TURNED_BELOW = 50;

sharp.cache(false);
sharp.concurrency(1);

interface Grey {
  width: number;
  height: number;
  /** One byte per pixel, row by row. */
  pixels: Uint8Array;
}

/** The size in a binary PGM header (`P5 <width> <height> <maxval>` and one whitespace), or undefined. */
export function pgmHeader(bytes: Uint8Array): { width: number; height: number; offset: number } | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 64)).toString('latin1');
  const match = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(head);
  if (match === null) return undefined;
  return { width: Number(match[1]), height: Number(match[2]), offset: match[0].length };
}

function toPgm({ width, height, pixels }: Grey): Uint8Array {
  const header = Buffer.from(`P5\n${width} ${height}\n255\n`, 'latin1');
  return Buffer.concat([header, pixels]);
}

function tooLarge(width: number, height: number, maxPixels: number): TaskFailure {
  return new TaskFailure(
    'too_large',
    `has an image of ${width} × ${height} pixels, more than the limit of ${maxPixels} pixels`,
    { width, height, limit: maxPixels },
  );
}

/** The frame as 8-bit grey pixels, its size checked from the header before decoding. */
async function decode(input: Pick<OcrTaskInput, 'image' | 'frame' | 'maxPixels'>): Promise<Grey> {
  const pgm = pgmHeader(input.image);
  if (pgm !== undefined) {
    if (pgm.width * pgm.height > input.maxPixels) throw tooLarge(pgm.width, pgm.height, input.maxPixels);
    const pixels = input.image.subarray(pgm.offset, pgm.offset + pgm.width * pgm.height);
    if (pixels.length < pgm.width * pgm.height)
      throw new TaskFailure('corrupt', 'a rendered page is truncated');
    return { width: pgm.width, height: pgm.height, pixels };
  }
  let meta: Metadata;
  try {
    meta = await sharp(input.image, { page: input.frame, limitInputPixels: false }).metadata();
  } catch (error) {
    throw new TaskFailure('corrupt', `is not a readable image: ${(error as Error).message}`);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > input.maxPixels) throw tooLarge(width, height, input.maxPixels);
  try {
    const { data, info } = await sharp(input.image, { page: input.frame, limitInputPixels: input.maxPixels })
      .flatten({ background: '#ffffff' })
      .greyscale()
      .extractChannel(0)
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, pixels: data };
  } catch (error) {
    throw new TaskFailure('corrupt', `is not a readable image: ${(error as Error).message}`);
  }
}

/** The pixels turned clockwise by `rotation` and shrunk to fit `maxSide`, as PGM. */
async function turn(grey: Grey, rotation: number, maxSide?: number): Promise<Buffer> {
  if (rotation === 0 && maxSide === undefined) return Buffer.from(toPgm(grey));
  let image = sharp(grey.pixels, { raw: { width: grey.width, height: grey.height, channels: 1 } }).rotate(
    rotation,
  );
  if (maxSide !== undefined)
    image = image.resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true });
  const { data, info } = await image.extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return Buffer.from(toPgm({ width: info.width, height: info.height, pixels: data }));
}

/** Share of dark pixels, sampled. */
function inkShare({ pixels }: Grey): number {
  const step = 7;
  let dark = 0;
  let seen = 0;
  for (let i = 0; i < pixels.length; i += step) {
    seen++;
    if ((pixels[i] ?? 255) < 128) dark++;
  }
  return seen === 0 ? 0 : dark / seen;
}

/** Side of the small copies a page's orientation is judged on, in pixels (about 120 dpi for A4). */
const ORIENTATION_SIDE = 1400;
/** How much better a later turn's small copy must score to be taken over an earlier one. */
const CLEARLY_BETTER = 1.05;

interface Reading {
  text: string;
  confidence: number;
  /** How much the reading looks like text: confidence × words that look like words (see `wordLike`). */
  score: number;
}

/**
 * Words that look like words: three letters or more, and in alphabetic scripts a vowel. A page
 * read at the wrong angle comes out as short fragments and symbols ("g", "RN", "%,") that
 * Tesseract may still give a middling confidence; a sparse page read upright (a chart's labels)
 * has few words but real ones.
 */
function wordLike(text: string): number {
  let count = 0;
  for (const token of text.split(/\s+/)) {
    const word = token.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
    if (!/^\p{L}{3,}$/u.test(word)) continue;
    if (
      /^[\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}]+$/u.test(word) &&
      !/[aeiouyàâäéèêëïîôöùûüÿæœåøáíóúãõıаеёиоуыэюяαεηιουω]/iu.test(word)
    )
      continue;
    count++;
  }
  return count;
}

/** The pixels scaled down to at most `maxPixels`, or as they are. */
async function fit(grey: Grey, maxPixels: number): Promise<Grey> {
  if (grey.width * grey.height <= maxPixels) return grey;
  const scale = Math.sqrt(maxPixels / (grey.width * grey.height));
  const { data, info } = await sharp(grey.pixels, {
    raw: { width: grey.width, height: grey.height, channels: 1 },
  })
    .resize(Math.max(1, Math.floor(grey.width * scale)), Math.max(1, Math.floor(grey.height * scale)), {
      fit: 'fill',
    })
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, pixels: data };
}

/** An OCR engine as `readPage` drives it. */
export interface PageReader {
  /** The text of a PGM image and Tesseract's mean word confidence (0–100). */
  read(image: Buffer): Promise<{ text: string; confidence: number }>;
  /** `read` of several images at once, in order, where that is cheaper than one at a time. */
  readAll?(images: Buffer[]): Promise<Array<{ text: string; confidence: number }>>;
  /** Called before a turned page is read in full: a chance to give back memory. */
  beforeFullRead?(): Promise<void>;
}

async function readScored(reader: PageReader, image: Buffer): Promise<Reading> {
  return scored(await reader.read(image));
}

function scored({ text, confidence: raw }: { text: string; confidence: number }): Reading {
  const words = text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
  const confidence = words === 0 ? 0 : raw;
  return { text, confidence, score: confidence * wordLike(text) };
}

/** Reads one page or frame with `reader`, turned when that reads clearly better. */
export async function readPage(
  input: Pick<OcrTaskInput, 'image' | 'frame' | 'maxPixels' | 'maxOcrPixels'>,
  reader: PageReader,
): Promise<OcrTaskOutput> {
  const grey = await fit(await decode(input), input.maxOcrPixels);
  const size = { width: grey.width, height: grey.height };
  const upright = await readScored(reader, await turn(grey, 0));
  const result = (reading: Reading, rotation: OcrTaskOutput['rotation']): OcrTaskOutput => ({
    text: reading.text,
    confidence: reading.confidence,
    rotation,
    ...size,
  });
  // A page without ink is blank, not turned.
  if (upright.confidence >= TRY_TURNED_BELOW || inkShare(grey) < 0.001) return result(upright, 0);
  // A poor reading: judge the orientation on small copies (cheap), then read the best one in full.
  // Tesseract reads some sideways lines itself, so two turns can read about as well: the plainer
  // one wins unless another reads clearly better (upright, then upside down, then sideways).
  let best: { rotation: OcrTaskOutput['rotation']; score: number } = { rotation: 0, score: -1 };
  const rotations = [0, 180, 90, 270] as const;
  let smalls: Reading[];
  if (reader.readAll === undefined) {
    smalls = [];
    for (const rotation of rotations)
      smalls.push(await readScored(reader, await turn(grey, rotation, ORIENTATION_SIDE)));
  } else {
    const images: Buffer[] = [];
    for (const rotation of rotations) images.push(await turn(grey, rotation, ORIENTATION_SIDE));
    smalls = (await reader.readAll(images)).map(scored);
  }
  rotations.forEach((rotation, i) => {
    const small = smalls[i]!;
    if (small.score > best.score * CLEARLY_BETTER) best = { rotation, score: small.score };
  });
  if (best.rotation === 0) return result(upright, 0);
  await reader.beforeFullRead?.();
  const turned = await readScored(reader, await turn(grey, best.rotation));
  // Turned only when it reads clearly better: a sparse upright page is not turned on a whim.
  return turned.score > upright.score * 1.5 && turned.confidence >= upright.confidence
    ? result(turned, best.rotation)
    : result(upright, 0);
}
