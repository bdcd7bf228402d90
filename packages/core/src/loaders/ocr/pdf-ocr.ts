/**
 * OCR for PDFs: the pages without a text layer (mode `auto`: no text, or a page the parser could
 * not read) or every page (`force`, which also replaces garbled text layers) are rendered and read by OCR, and their text
 * takes the place of the parser's before the quality gate judges the document. Text pages of a
 * mixed PDF keep their own text.
 */
import { DocumentError } from '../../errors.js';
import { type DocumentVerdict, hasNoText, type PdfPageText } from '../pdf-text-quality.js';
import type { SandboxedLoadOptions } from '../sandboxed.js';
import { type OcrDocumentReport, type OcrRunOptions, ocrPages, reportOf } from './ocr-pages.js';
import { PdfRasteriser } from './rasterise.js';

export interface PdfOcrOptions extends SandboxedLoadOptions {
  /** OCR settings and services; without it no page is read by OCR. */
  ocr?: OcrRunOptions;
  password?: string;
}

export interface PdfOcrResult {
  pages: PdfPageText[];
  report: OcrDocumentReport;
}

/** The pages OCR should read under the mode. */
export function pagesNeedingOcr(pages: readonly PdfPageText[], mode: 'auto' | 'off' | 'force'): number[] {
  if (mode === 'off') return [];
  if (mode === 'force') return pages.map((p) => p.page);
  // A page the engine found to paint no image is blank: nothing for OCR to read.
  return pages
    .filter(({ text, images }) => images !== false && (text === null || hasNoText(text)))
    .map((p) => p.page);
}

/** Reads the PDF's pages that need OCR; null when OCR is off or every page has text. */
export async function ocrPdfPages(
  bytes: Uint8Array,
  name: string,
  pages: readonly PdfPageText[],
  options: PdfOcrOptions,
): Promise<PdfOcrResult | null> {
  const { ocr, limits } = options;
  if (ocr === undefined) return null;
  const wanted = pagesNeedingOcr(pages, ocr.settings.mode);
  if (wanted.length === 0) return null;
  const rasteriser = await PdfRasteriser.open(bytes, name, {
    dpi: ocr.settings.dpi,
    maxPixels: ocr.settings.maxOcrPixels,
    timeoutMs: limits.parseTimeoutMs,
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  try {
    const results = await ocrPages(
      wanted.map((page) => ({ page, frame: 0, image: () => rasteriser.page(page) })),
      name,
      ocr,
      options,
    );
    const byPage = new Map(results.map((r) => [r.page, r]));
    return {
      pages: pages.map((p) => {
        const read = byPage.get(p.page);
        return read === undefined ? p : { ...p, text: read.text };
      }),
      report: await reportOf(results, ocr.settings),
    };
  } finally {
    await rasteriser.close();
  }
}

/**
 * The quality gate's verdict after OCR: pages OCR found illegible are listed as `illegible`, and a
 * document where OCR found nothing legible says so (instead of "run OCR first").
 */
export function verdictAfterOcr(
  name: string,
  verdict: DocumentVerdict,
  ocr: PdfOcrResult | null,
  pageCount: number,
): DocumentVerdict {
  if (ocr === null) return verdict;
  const illegible = new Set(ocr.report.pages.filter((p) => p.illegible).map((p) => p.page));
  const skipped = verdict.skipped.map((s) =>
    illegible.has(s.page) ? { ...s, reason: 'illegible' as const } : s,
  );
  // Still no text after OCR read the image pages: a scan OCR could not read, not one to send to OCR.
  if (!verdict.ok && (verdict.problem === 'needs_ocr' || verdict.problem === 'blank')) {
    throw new DocumentError(
      name,
      'no_text',
      `OCR found no legible text on ${illegible.size} of its ${pageCount} pages (languages ${ocr.report.recipe.langs.join('+')}); check the scan quality and the OCR languages`,
      { details: { pageCount, illegiblePages: [...illegible] } },
    );
  }
  return { ...verdict, skipped };
}
