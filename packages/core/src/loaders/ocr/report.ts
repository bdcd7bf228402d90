/** What OCR tells about a document it read: part of `LoadedDocument` (`ocr`). */
import type { OcrRecipe } from './settings.js';

/** One page as OCR read it. */
export interface OcrPageReport {
  /** 1-based page (PDF) or frame (multi-page image). */
  page: number;
  /** Mean word confidence, 0–100. */
  confidence: number;
  /** Kept, but below `minConfidence`: its text may hold misread words. */
  lowConfidence: boolean;
  /** OCR found no legible text on the page: it is listed as skipped (`illegible`), not indexed empty. */
  illegible: boolean;
  /** Clockwise turn the page was read at, in degrees. */
  rotation: number;
  /** Found in the OCR cache. */
  cached: boolean;
}

/** What OCR did to a document: the recipe (part of its version) and every page it read. */
export interface OcrDocumentReport {
  recipe: OcrRecipe;
  pages: OcrPageReport[];
}
