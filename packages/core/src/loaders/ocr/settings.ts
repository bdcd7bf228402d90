/**
 * OCR settings: when pages are read by OCR, in which languages, and how a page's result is judged.
 * The settings that change the text (`langs`, `dpi`, the engine) are the OCR part of a document's
 * extraction recipe (`ocrRecipe`), so a change gives the document a new version; the others do not.
 */
import { z } from 'zod';
import { QuireError } from '../../errors.js';
import { OCR_ENGINE_SETTINGS, type OcrEngine, type OcrEngineSetting } from './engine.js';

/** `auto`: OCR the pages that have no text layer (and images); `force`: every page; `off`: none. */
export const OCR_MODES = ['auto', 'off', 'force'] as const;
export type OcrMode = (typeof OCR_MODES)[number];

/** Tesseract language names: `eng`, `chi_sim`, `deu_latf`, a script such as `Latin`. */
export const OcrLanguageSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{1,31}$/, 'a Tesseract language name such as eng, fra or chi_sim');

export const OcrSettingsInputSchema = z
  .object({
    mode: z.enum(OCR_MODES).optional(),
    langs: z.array(OcrLanguageSchema).min(1).max(8).optional(),
    minConfidence: z.number().min(0).max(100).optional(),
    dpi: z.number().int().min(72).max(600).optional(),
    maxPixels: z.number().int().min(10_000).max(1_000_000_000).optional(),
    maxOcrPixels: z.number().int().min(10_000).max(1_000_000_000).optional(),
    concurrency: z.number().int().min(1).max(64).optional(),
    langDirs: z.array(z.string().min(1)).optional(),
    engine: z.enum(OCR_ENGINE_SETTINGS).optional(),
  })
  .strict();

export interface OcrSettings {
  /** @defaultValue `'auto'` */
  mode: OcrMode;
  /** Languages of the text, combined on each page (`['eng', 'fra']` → `eng+fra`). @defaultValue `['eng']` */
  langs: string[];
  /**
   * Mean word confidence (0–100) under which a page is kept but flagged `ocrLowConfidence`.
   * @defaultValue 60
   */
  minConfidence: number;
  /** Resolution PDF pages are rendered at for OCR, in dots per inch. @defaultValue 300 */
  dpi: number;
  /**
   * Most pixels of one page or image frame (width × height), read from the header before any
   * decoding: a larger image is refused (`too_large`), an image bomb among them.
   * @defaultValue 40,000,000 (A4 at 600 dpi is 35 M)
   */
  maxPixels: number;
  /**
   * Most pixels Tesseract reads of one page: a larger PDF page is rendered at a lower resolution
   * and a larger image is scaled down to fit. Tesseract's memory grows with the pixels it reads
   * (an A4 page at 300 dpi, 8.7 M pixels, peaks near 250 MiB), so this keeps a page within the
   * sandbox's memory cap. @defaultValue 10,000,000
   */
  maxOcrPixels: number;
  /** Pages of one document read at once, each in its own sandbox child. @defaultValue 2 */
  concurrency: number;
  /**
   * Directories searched first for `<lang>.traineddata` files, before the npm language packages
   * and the system's (`/usr/share/tesseract-ocr/<version>/tessdata`). @defaultValue `[]`
   */
  langDirs: string[];
  /**
   * The engine (`engine.ts`): `tesseract` (the command-line program), `tesseract.js`, or `auto`
   * (the program when installed). @defaultValue `'auto'`
   */
  engine: OcrEngineSetting;
}

export type OcrSettingsInput = z.input<typeof OcrSettingsInputSchema>;

export const DEFAULT_OCR_SETTINGS: Readonly<OcrSettings> = Object.freeze({
  mode: 'auto',
  langs: ['eng'],
  minConfidence: 60,
  dpi: 300,
  maxPixels: 40_000_000,
  maxOcrPixels: 10_000_000,
  concurrency: 2,
  langDirs: [],
  engine: 'auto',
});

/** Merges settings over the defaults (later ones win); wrong values are an `invalid_input` error. */
export function resolveOcrSettings(...inputs: Array<OcrSettingsInput | undefined>): OcrSettings {
  let settings: OcrSettings = { ...DEFAULT_OCR_SETTINGS };
  for (const input of inputs) {
    if (input === undefined) continue;
    const parsed = OcrSettingsInputSchema.safeParse(input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'ocr'}: ${i.message}`).join('; ');
      throw new QuireError('invalid_input', `invalid OCR settings: ${issues}`);
    }
    const defined = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
    settings = { ...settings, ...defined };
  }
  return { ...settings, langs: [...new Set(settings.langs)] };
}

/** What in the OCR settings shapes the text: goes into the document's extraction recipe and the cache key. */
export interface OcrRecipe {
  engine: string;
  langs: string[];
  dpi: number;
}

/** The engine (`resolveOcrEngine`) and its version are part of every recipe: a new one re-reads pages. */
export function ocrRecipe(settings: Pick<OcrSettings, 'langs' | 'dpi'>, engine: OcrEngine): OcrRecipe {
  return { engine: engine.recipe, langs: [...settings.langs], dpi: settings.dpi };
}
