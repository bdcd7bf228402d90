import type { SkippedPage } from './types.js';

/**
 * The text-quality gate for PDFs. A scanned page, or a page set in a font without a Unicode map,
 * "succeeds" with no text or with garbage; indexing that silently would make the document
 * unfindable. Pages are judged on their visible (non-space) characters:
 *
 * - meaningful: letters and digits of any script (`\p{L}`, `\p{N}`);
 * - unreadable: U+FFFD, control characters, private-use, unassigned and lone surrogate code points,
 *   which is what unmapped glyphs come out as.
 *
 * Dot leaders and rules (`.....`, `_____`) are not counted, so tables of contents and forms are
 * judged on their words. Real documents measured 71–100% meaningful characters per page and
 * under 1% unreadable ones, so the thresholds below leave a wide margin.
 */
export const PDF_TEXT_QUALITY = {
  /** A page with fewer visible characters is too short to judge by ratios. */
  minVisibleToJudge: 16,
  /** A page is garbled above this share of unreadable characters... */
  maxUnreadableShare: 0.25,
  /** ...or below this share of meaningful ones. */
  minMeaningfulShare: 0.35,
  /** A page counts as a text page from this many meaningful characters (a page number or stamp does not). */
  minTextPageChars: 8,
  /** A document whose text pages are fewer than half its pages must average this many meaningful characters per page. */
  minAverageCharsWhenMostlyImages: 200,
} as const;

export type PageVerdict = 'text' | 'sparse' | 'no_text' | 'garbled';

export interface PageAssessment {
  verdict: PageVerdict;
  visible: number;
  meaningful: number;
  unreadable: number;
}

const LEADERS = /([.·…_\-–—=*~])(?:\s?\1){3,}/gu;
const SPACE = /^\s$/u;
const MEANINGFUL = /^[\p{L}\p{N}]$/u;
/** Unmapped glyphs as engines output them; whitespace (itself `\p{Cc}` in part) is not one. */
const UNREADABLE = /^[\uFFFD\p{Cc}\p{Co}\p{Cn}\p{Cs}]$/u;

/** Character classes; `OTHER` is visible, neither meaningful nor unreadable (punctuation, marks). */
const UNKNOWN = 0;
const SPACE_CHAR = 1;
const MEANINGFUL_CHAR = 2;
const UNREADABLE_CHAR = 3;
const OTHER = 4;

function classify(char: string): number {
  if (SPACE.test(char)) return SPACE_CHAR;
  if (MEANINGFUL.test(char)) return MEANINGFUL_CHAR;
  return UNREADABLE.test(char) ? UNREADABLE_CHAR : OTHER;
}

/** Classes of the Basic Multilingual Plane's code points, filled in as they are met. */
const bmpClasses = new Uint8Array(0x10000);
/** Set in `classAt`'s answer when the code point at `i` is a surrogate pair (two code units). */
const PAIR = 8;

/** The class of the code point at `i`, with `PAIR` set when it takes two code units. */
function classAt(text: string, i: number): number {
  const unit = text.charCodeAt(i);
  if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return classify(text.slice(i, i + 2)) | PAIR;
  }
  let cls = bmpClasses[unit] ?? UNKNOWN;
  if (cls === UNKNOWN) {
    cls = classify(String.fromCharCode(unit));
    bmpClasses[unit] = cls;
  }
  return cls;
}

/**
 * Counts a page's visible, meaningful and unreadable code points in one pass: each code point of the
 * Basic Multilingual Plane is classified by the patterns once per process, which costs a page of
 * text a lookup per character instead of an array of matches per pattern.
 */
function countChars(text: string): { visible: number; meaningful: number; unreadable: number } {
  let visible = 0;
  let meaningful = 0;
  let unreadable = 0;
  for (let i = 0; i < text.length; i++) {
    const at = classAt(text, i);
    if (at & PAIR) i++;
    const cls = at & ~PAIR;
    if (cls === SPACE_CHAR) continue;
    visible++;
    if (cls === MEANINGFUL_CHAR) meaningful++;
    else if (cls === UNREADABLE_CHAR) unreadable++;
  }
  return { visible, meaningful, unreadable };
}

/**
 * Whether `text` holds at least `wanted` meaningful code points (letters and digits), reading
 * only as far as it takes: a text page answers within its first words. Dot leaders hold none, so
 * this agrees with `assessPageText(text).meaningful >= wanted`.
 */
export function hasMeaningfulChars(text: string, wanted: number): boolean {
  let meaningful = 0;
  for (let i = 0; i < text.length; i++) {
    const at = classAt(text, i);
    if (at & PAIR) i++;
    if ((at & ~PAIR) === MEANINGFUL_CHAR && ++meaningful >= wanted) return true;
  }
  return wanted <= 0;
}

/**
 * Whether the page has no text at all (`assessPageText`'s `no_text`): a page with a letter or
 * digit has some, and is told so without a full count.
 */
export function hasNoText(text: string): boolean {
  return !hasMeaningfulChars(text, 1) && assessPageText(text).verdict === 'no_text';
}

export function assessPageText(text: string): PageAssessment {
  const { visible, meaningful, unreadable } = countChars(text.replace(LEADERS, ''));
  const q = PDF_TEXT_QUALITY;
  let verdict: PageVerdict;
  if (visible >= q.minVisibleToJudge) {
    const garbled =
      unreadable / visible > q.maxUnreadableShare || meaningful / visible < q.minMeaningfulShare;
    verdict = garbled ? 'garbled' : 'text';
  } else if (meaningful === 0) {
    verdict = unreadable > 0 ? 'garbled' : 'no_text';
  } else {
    verdict = unreadable > meaningful ? 'garbled' : meaningful >= q.minTextPageChars ? 'text' : 'sparse';
  }
  return { verdict, visible, meaningful, unreadable };
}

export interface PdfPageText {
  page: number;
  /** null when the parser could not read the page. */
  text: string | null;
  /**
   * Whether the page paints an image; asked by the engines only of pages with (almost) no text,
   * to tell a scan from a blank page. Absent or null: not known.
   */
  images?: boolean | null;
}

/**
 * Whether the verdict on these pages depends on which of their pages without text paint images:
 * only when the document would otherwise be refused as a scan. Engines ask it before looking for
 * images, so a document with text never pays for the look.
 */
export function needsImageCheck(pages: readonly PdfPageText[]): boolean {
  const verdict = assessPdfPages(pages);
  return !verdict.ok && verdict.problem === 'needs_ocr';
}

/** Pages with too little text to count as text pages: where an engine looks for images. */
export function pagesWithoutText(pages: readonly PdfPageText[]): PdfPageText[] {
  return pages.filter(
    (entry) => entry.text !== null && !hasMeaningfulChars(entry.text, PDF_TEXT_QUALITY.minTextPageChars),
  );
}

/**
 * The pages an engine looks at for images, and only those: every page with no text at all (OCR
 * reads the ones that paint an image and leaves a blank page alone, so a blank page of a text
 * document is never rendered and read), and, when the document would be refused as a scan, every
 * page with too little text to count (the verdict counts the ones that paint images). A page with
 * text is never looked at: the look costs pdf.js an operator list, which decodes the page's images.
 * With `blankPages` false (no OCR will read the document) the blank pages of a document with text
 * are not looked at either: nothing would use the answer.
 */
export function pagesToCheckForImages(pages: readonly PdfPageText[], blankPages = true): PdfPageText[] {
  const bare = pagesWithoutText(pages);
  if (bare.length === 0 || needsImageCheck(pages)) return bare;
  if (!blankPages) return [];
  return bare.filter((entry) => entry.text !== null && hasNoText(entry.text));
}

/** Why a document as a whole has no usable text. */
export type PdfProblem = 'needs_ocr' | 'blank' | 'garbled' | 'unreadable';

export type DocumentVerdict =
  | { ok: true; keep: Array<{ page: number; text: string }>; skipped: SkippedPage[] }
  | { ok: false; problem: PdfProblem; reason: string; skipped: SkippedPage[] };

/**
 * Keeps the pages worth indexing and decides whether the document as a whole has text:
 * - pages without text (blank or image-only) and garbled pages are skipped and listed;
 * - garbled pages on more than half of the pages that have any text fail the document (`garbled`);
 * - so does having no text page, or text on fewer than half the pages while averaging under
 *   `minAverageCharsWhenMostlyImages` meaningful characters per page: when pages without text
 *   paint images (or the engine cannot tell) it is a scan that `needs_ocr`; when none does, a
 *   document with no text page at all is `blank` (blank pages, or a few stray characters), while
 *   one with some text pages is kept (a short form with blank pages);
 * - a document none of whose pages the parser could read is `unreadable`.
 */
export function assessPdfPages(pages: readonly PdfPageText[]): DocumentVerdict {
  const keep: Array<{ page: number; text: string }> = [];
  const skipped: SkippedPage[] = [];
  let textPages = 0;
  let garbledPages = 0;
  let pagesWithText = 0;
  let meaningful = 0;
  /** Pages without a text page's worth of text that paint images, or may (not known). */
  let imagePages = 0;
  for (const { page, text, images } of pages) {
    if (text === null) {
      skipped.push({ page, reason: 'unreadable' });
      continue;
    }
    const assessment = assessPageText(text);
    if (assessment.verdict !== 'text' && images !== false) imagePages++;
    if (assessment.verdict === 'no_text') {
      skipped.push({ page, reason: 'no_text' });
      continue;
    }
    pagesWithText++;
    if (assessment.verdict === 'garbled') {
      garbledPages++;
      skipped.push({ page, reason: 'garbled' });
      continue;
    }
    if (assessment.verdict === 'text') textPages++;
    meaningful += assessment.meaningful;
    keep.push({ page, text });
  }

  const pageCount = pages.length;
  const unreadablePages = skipped.filter((entry) => entry.reason === 'unreadable').length;
  if (pageCount > 0 && unreadablePages === pageCount) {
    return {
      ok: false,
      problem: 'unreadable',
      reason: `is damaged: none of its ${pageCount} pages could be read`,
      skipped,
    };
  }
  if (garbledPages > 0 && garbledPages * 2 > pagesWithText) {
    return {
      ok: false,
      problem: 'garbled',
      reason:
        `its text layer is unreadable on ${garbledPages} of ${pageCount} pages (fonts without a Unicode map ` +
        'or a damaged text layer); run OCR on it',
      skipped,
    };
  }
  const mostlyImages =
    textPages * 2 < pageCount && meaningful < PDF_TEXT_QUALITY.minAverageCharsWhenMostlyImages * pageCount;
  if (textPages === 0 || mostlyImages) {
    if (imagePages > 0) {
      return {
        ok: false,
        problem: 'needs_ocr',
        reason:
          `it is scanned: ${imagePages} of ${pageCount} pages hold images and no text ` +
          `(text on ${textPages} of ${pageCount} pages); run OCR first`,
        skipped,
      };
    }
    if (textPages === 0) {
      return {
        ok: false,
        problem: 'blank',
        reason:
          pageCount === 0
            ? 'has no pages'
            : meaningful === 0
              ? `is blank: none of its ${pageCount} pages holds text or images`
              : `is nearly empty: ${meaningful} letters or digits on ${pageCount} pages and no images`,
        skipped,
      };
    }
  }
  return { ok: true, keep, skipped };
}
