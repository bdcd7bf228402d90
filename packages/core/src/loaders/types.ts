/** What a loader extracts from one file: its text and the structure that text came with. */

export type DocumentKind = 'pdf' | 'text' | 'markdown' | 'html' | 'docx' | 'csv' | 'json';

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
}

export interface LoadLimits {
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  /** Most pages read from a PDF. */
  maxPages: number;
  /** Most characters of extracted text. */
  maxChars: number;
  /** Wall-clock limit for parsing one PDF, in milliseconds. */
  pdfTimeoutMs: number;
  /** Heap cap for the PDF parser's worker, in megabytes. */
  pdfMaxMemoryMb: number;
}

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
