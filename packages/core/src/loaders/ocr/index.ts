export type { OcrEngine, OcrEngineName, OcrEngineSetting } from './engine.js';
export { OCR_ENGINE_SETTINGS, resolveOcrEngine, TESSERACT_JS_ENGINE } from './engine.js';
export { findOcrLanguage, installedOcrLanguages, ocrLanguageDir, SYSTEM_TESSDATA_DIRS } from './languages.js';
export type { CachedOcrPage, OcrResultCache } from './ocr-cache.js';
export { ocrCacheKey, openOcrCache } from './ocr-cache.js';
export type {
  OcrDocumentReport,
  OcrPageReport,
  OcrPageResult,
  OcrPageSource,
  OcrRunOptions,
} from './ocr-pages.js';
export {
  OCR_KEEP_RSS_SHARE,
  OCR_PAGES_PER_CHILD,
  ocrChunkMetadata,
  ocrPages,
  ocrRecipeOf,
} from './ocr-pages.js';
export { ocrPdfPages, pagesNeedingOcr } from './pdf-ocr.js';
export { PdfRasteriser, pageDpi, pdftoppmAvailable } from './rasterise.js';
export type { OcrMode, OcrRecipe, OcrSettings, OcrSettingsInput } from './settings.js';
export {
  DEFAULT_OCR_SETTINGS,
  OCR_MODES,
  OcrSettingsInputSchema,
  ocrRecipe,
  resolveOcrSettings,
} from './settings.js';
