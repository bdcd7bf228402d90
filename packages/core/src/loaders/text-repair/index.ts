import type { PageFurniture } from '../types.js';
import { type PageText, removeFurniture } from './furniture.js';
import { rejoinHyphenation } from './hyphenation.js';
import { expandLatinLigatures } from './ligatures.js';
import { repairRtl } from './rtl.js';

export type { PageText } from './furniture.js';

export { TEXT_REPAIR_VERSION } from './version.js';

export interface RepairedText {
  /** The pages, same numbers and order, with repaired text (possibly empty). */
  pages: PageText[];
  /** Running headers and footers taken out of the pages, most frequent first. */
  furniture: PageFurniture[];
  /** Line-end splits rejoined into one word, and kept as compounds. */
  hyphenation: { joined: number; kept: number };
}

/**
 * Repairs the text an extractor read from a document's pages, whichever engine read it:
 * 1. Latin ligatures spelled out (ﬁ → fi);
 * 2. right-to-left lines put in logical order, Arabic/Hebrew presentation forms to letters;
 * 3. running headers and footers removed and returned apart;
 * 4. line-end hyphenation rejoined, inside pages and across page breaks (after 3, so that a
 *    footer does not sit between the halves of a word).
 * Line breaks are otherwise kept as they are (code, tables and verse depend on them).
 */
export function repairPageTexts(pages: readonly PageText[]): RepairedText {
  const ligaturesDone = pages.map((page) => expandLatinLigatures(page.text));
  const rtlDone = repairRtl(ligaturesDone);
  const { pages: bare, furniture } = removeFurniture(
    pages.map((page, index) => ({ page: page.page, text: rtlDone[index]! })),
  );
  const { pages: joined, count } = rejoinHyphenation(bare.map((page) => page.text));
  return {
    pages: bare.map((page, index) => ({ page: page.page, text: joined[index]! })),
    furniture,
    hyphenation: count,
  };
}
