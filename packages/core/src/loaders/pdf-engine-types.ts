/**
 * What the PDF engines share: the sandbox task's input and output, the same for every engine, so
 * the loader, the quality gate and the fallback never need to know which engine read a file.
 */
import type { PdfPageText } from './pdf-text-quality.js';

/** The PDF engines: pdf.js (through pdf-parse, always available) and Poppler's command-line tools. */
export const PDF_ENGINES = ['pdfjs', 'poppler'] as const;
export type PdfEngineName = (typeof PDF_ENGINES)[number];

/** `QUIRE_PDF_ENGINE`: an engine, or `auto` (poppler when its tools are installed, else pdfjs). */
export const PDF_ENGINE_SETTINGS = ['auto', ...PDF_ENGINES] as const;
export type PdfEngineSetting = (typeof PDF_ENGINE_SETTINGS)[number];

export interface PdfTaskInput {
  data: Uint8Array;
  /** Passwords to try in order; empty when none was given. */
  passwords: string[];
  maxPages: number;
  maxChars: number;
  /**
   * Memory cap of a tool the task starts (poppler), in MiB: the sandbox's watchdog sees only its
   * own child process, so an external tool gets the cap as its own address-space limit.
   */
  maxMemoryMb?: number;
}

export interface PdfTaskOutput {
  /** The engine that read the file. */
  engine: PdfEngineName;
  pageCount: number;
  title: string | null;
  pages: PdfPageText[];
}
