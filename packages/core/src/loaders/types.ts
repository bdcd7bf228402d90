/** What a loader extracts from one file: its text and the structure that text came with. */
import type { ExtractionRecipe } from './extraction-recipe.js';
import type { OcrDocumentReport } from './ocr/report.js';

export type DocumentKind = 'pdf' | 'text' | 'markdown' | 'html' | 'docx' | 'csv' | 'json' | 'image';

/**
 * A contiguous piece of the extracted text with its structure. Sections never span two pages
 * or two headings; the chunker keeps those boundaries.
 */
export interface Section {
  text: string;
  /** 1-based page number (PDF); null when the format has no pages. */
  page: number | null;
  /** Headings above this section, outermost first (Markdown, HTML, DOCX). */
  headingPath: string[];
  /** Offset of `text` in `LoadedDocument.text`. */
  start: number;
}

export interface LoadedDocument {
  kind: DocumentKind;
  /** Detected MIME type. */
  mediaType: string;
  /** All extracted text: the sections' texts joined with blank lines. */
  text: string;
  sections: Section[];
  /** Pages in the file (PDF), else null. */
  pageCount: number | null;
  /** Title when the format carries one. */
  title: string | null;
  /**
   * PDF pages left out of `sections`: pages without any text (blank or image-only) and pages whose
   * text was unreadable (garbled by a font without a Unicode map, or a page the parser could not
   * read). Absent for other formats.
   */
  skippedPages?: SkippedPage[];
  /** How the text was extracted (engine, its version, repair rules): part of the document's version. */
  extraction: ExtractionRecipe;
  /**
   * PDF running headers and footers (journal name, author line, page numbers) taken out of the
   * page texts, so that they can be shown with the document without repeating in every chunk.
   * Absent when none were found and for other formats.
   */
  furniture?: PageFurniture[];
  /** What OCR read (scanned PDF pages, image files): the recipe and each page's confidence. Absent when OCR read nothing. */
  ocr?: OcrDocumentReport;
}

/** A line repeated at the top or bottom of most pages of a PDF. */
export interface PageFurniture {
  /** The line as found on the first page that has it. */
  text: string;
  /** The form pages were compared by: lower case, spaces collapsed, each number as "#". */
  template: string;
  /** How many pages it was removed from. */
  pages: number;
}

/** Why a PDF page contributed no section. */
export type SkippedPageReason = 'no_text' | 'garbled' | 'unreadable' | 'illegible';

export interface SkippedPage {
  /** 1-based page number. */
  page: number;
  reason: SkippedPageReason;
}

export interface LoadLimits {
  /** Largest file accepted, in bytes. Default 50 MiB (52,428,800). */
  maxBytes: number;
  /** Most pages a PDF may have; a longer PDF fails with `too_many_pages` (never truncated). Default 2,000. */
  maxPages: number;
  /** Most characters of extracted text; more fails with `too_many_chars`. Default 5,000,000. */
  maxChars: number;
  /**
   * Wall-clock limit for parsing one document in the sandbox (PDF, DOCX, HTML), in milliseconds;
   * past it the parse fails with `parse_timeout`. Default 120,000 (2 minutes).
   */
  parseTimeoutMs: number;
  /**
   * RSS cap of the sandbox child that parses one document (PDF, DOCX, HTML), in MiB; past it the
   * child is killed and the parse fails with `parse_out_of_memory`. Default 512.
   */
  parseMaxMemoryMb: number;
  /**
   * Most bytes a ZIP-based document (DOCX) may inflate to, counted while inflating (declared sizes
   * are not trusted); past it the load fails with `too_large`. Default 256 MiB (268,435,456).
   */
  maxInflatedBytes: number;
}

/** Earlier names of two limits, still accepted as input (the new name wins when both are given). */
export interface LegacyLoadLimits {
  /** @deprecated use `parseTimeoutMs`. */
  pdfTimeoutMs?: number;
  /** @deprecated use `parseMaxMemoryMb`. */
  pdfMaxMemoryMb?: number;
}

/** Limits as a caller gives them: any subset, merged over `DEFAULT_LOAD_LIMITS`. */
export type LoadLimitsInput = Partial<LoadLimits> & LegacyLoadLimits;

export interface LoadInput {
  bytes: Uint8Array;
  /** File name as given by the source; used with the bytes to detect the type. */
  name: string;
  /** Media type claimed by the source (e.g. HTTP Content-Type); a hint only, never trusted alone. */
  claimedType?: string;
  /** PDF password. */
  password?: string;
  signal?: AbortSignal;
}
