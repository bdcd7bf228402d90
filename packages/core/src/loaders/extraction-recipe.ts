/**
 * The extraction recipe: everything besides a file's bytes that decides the text Quire extracts
 * from it. It is part of the document's version (see `documentVersion` in `ingest/`), so:
 *
 * - a fix to extraction (a new engine release, new repair rules) gives already-ingested files a new
 *   version, and re-ingesting them stores the new text instead of being skipped as unchanged;
 * - two workers that would extract different text (one with Poppler, one without; two Poppler
 *   releases) never write under one version.
 *
 * One slot per stage; a stage that is not built yet keeps its slot `null` until it is.
 */
import type { OcrRecipe } from './ocr/settings.js';
import type { PdfEngineName } from './pdf-engine-names.js';
import { TEXT_REPAIR_VERSION } from './text-repair/version.js';

/**
 * Version of the engine-independent text repair rules (hyphenation, ligatures, right-to-left
 * order, running headers), which PDF text goes through; `text-repair/` bumps it whenever a rule
 * changes what text comes out.
 */
export const TEXT_REPAIR_RULES_VERSION: number = TEXT_REPAIR_VERSION;

/** The engine that extracted a PDF's text, as it was on this worker. */
export interface PdfEngineRecipe {
  engine: PdfEngineName;
  /** e.g. `pdfjs-dist 5.4.296` or `poppler 22.12.0`. */
  version: string;
}

export type { OcrRecipe };

export interface ExtractionRecipe {
  /** The PDF engine that produced the text; null for other formats. */
  pdf: PdfEngineRecipe | null;
  /** {@link TEXT_REPAIR_RULES_VERSION} when repair ran (PDF text), else null. */
  repairRules: number | null;
  /** The OCR settings that shape the text (engine, languages, resolution) when OCR read pages; else null. */
  ocr: OcrRecipe | null;
}

/** The recipe of a load: what the engine (if any) reported plus the rules in force. */
export function extractionRecipe(
  parts: { pdf?: PdfEngineRecipe | null; ocr?: OcrRecipe | null } = {},
): ExtractionRecipe {
  const pdf = parts.pdf ?? null;
  return { pdf, repairRules: pdf === null ? null : TEXT_REPAIR_RULES_VERSION, ocr: parts.ocr ?? null };
}

/** A stable string of a recipe, for logs and the version hash: keys in a fixed order. */
export function recipeKey(recipe: ExtractionRecipe): string {
  return JSON.stringify([
    recipe.pdf === null ? null : [recipe.pdf.engine, recipe.pdf.version],
    recipe.repairRules,
    recipe.ocr === null ? null : Object.entries(recipe.ocr).sort(([a], [b]) => (a < b ? -1 : 1)),
  ]);
}
