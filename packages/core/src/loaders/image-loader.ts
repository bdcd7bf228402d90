/**
 * Image files (PNG, JPEG, TIFF with any number of pages, WebP): their text is read by OCR, one
 * section per page (frame), so answers cite the page of a multi-page scan. The frames' sizes are
 * read from the headers in the sandbox first, and an image over the pixel limit is refused before
 * any of it is decoded.
 */
import { DocumentError } from '../errors.js';
import type { ImageInfoTaskInput, ImageInfoTaskOutput } from '../sandbox/tasks/image-info-task.js';
import type { ExtractedDocument } from './extracted.js';
import { type OcrRunOptions, ocrPages, reportOf } from './ocr/ocr-pages.js';
import { runInSandbox, type SandboxedLoadOptions } from './sandboxed.js';
import { SectionBuilder } from './section-builder.js';
import type { SkippedPage } from './types.js';

/** Image types read by OCR, by media type. */
export const OCR_IMAGE_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'image/png',
  'image/jpeg',
  'image/tiff',
  'image/webp',
]);

export interface ExtractImageOptions extends SandboxedLoadOptions {
  ocr?: OcrRunOptions;
}

export async function extractImage(
  bytes: Uint8Array,
  name: string,
  options: ExtractImageOptions,
): Promise<ExtractedDocument> {
  const { ocr, limits } = options;
  if (ocr === undefined || ocr.settings.mode === 'off') {
    throw new DocumentError(
      name,
      'no_text',
      'is an image: its text needs OCR, which is turned off (QUIRE_OCR=off)',
    );
  }
  const input: ImageInfoTaskInput = {
    data: bytes,
    maxPixels: ocr.settings.maxPixels,
    maxFrames: limits.maxPages,
  };
  const info = await runInSandbox<ImageInfoTaskOutput>('image-info', name, input, options);
  const results = await ocrPages(
    info.frames.map((_, frame) => ({ page: frame + 1, frame, image: async () => bytes })),
    name,
    ocr,
    options,
  );
  const builder = new SectionBuilder();
  const skipped: SkippedPage[] = [];
  for (const result of results) {
    if (result.illegible) skipped.push({ page: result.page, reason: 'illegible' });
    else builder.add(result.text, result.page, []);
  }
  if (skipped.length === results.length) {
    throw new DocumentError(
      name,
      'no_text',
      `OCR found no legible text in the image${results.length > 1 ? `'s ${results.length} pages` : ''} (languages ${ocr.settings.langs.join('+')}); check the scan quality and the OCR languages`,
      { details: { pageCount: results.length } },
    );
  }
  return {
    ...builder.build(),
    pageCount: results.length,
    title: null,
    skippedPages: skipped,
    ocr: await reportOf(results, ocr.settings),
  };
}
