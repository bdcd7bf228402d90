/**
 * What the PDF engines share: the sandbox task's input and output, the same for every engine, so
 * the loader, the quality gate and the fallback never need to know which engine read a file.
 */

import type { PdfEngineName } from './pdf-engine-names.js';
import type { PdfPageText } from './pdf-text-quality.js';

export {
  PDF_ENGINE_SETTINGS,
  PDF_ENGINES,
  type PdfEngineName,
  type PdfEngineSetting,
} from './pdf-engine-names.js';

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
  /**
   * Whether an engine that can tell cheaply looks for images on every page with no text at all, as
   * OCR in `auto` mode wants to know (it leaves a blank page alone); when false, only when the
   * verdict needs it (a would-be scan). Default true.
   */
  imagesOfBlankPages?: boolean;
}

export interface PdfTaskOutput {
  /** The engine that read the file. */
  engine: PdfEngineName;
  pageCount: number;
  title: string | null;
  pages: PdfPageText[];
}
