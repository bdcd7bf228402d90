/** The PDF engines by name: pdf.js (through pdf-parse, always available) and Poppler's command-line tools. */
export const PDF_ENGINES = ['pdfjs', 'poppler'] as const;
export type PdfEngineName = (typeof PDF_ENGINES)[number];

/** `QUIRE_PDF_ENGINE`: an engine, or `auto` (poppler when its tools are installed, else pdfjs). */
export const PDF_ENGINE_SETTINGS = ['auto', ...PDF_ENGINES] as const;
export type PdfEngineSetting = (typeof PDF_ENGINE_SETTINGS)[number];
