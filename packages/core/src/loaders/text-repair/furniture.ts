import type { PageFurniture } from '../types.js';

/**
 * Running headers and footers ("page furniture"): lines printed on most pages (a journal's name,
 * an author line, "Page 3 of 20", "- 4 -") that would otherwise repeat in every page's chunks.
 *
 * Only the first and last `EDGE_LINES` lines of a page's text are looked at: extractors put a
 * page's header first or last depending on the order the PDF draws it, so both ends count as
 * either. Lines are compared by a template: case folded, spaces collapsed, every number (Arabic
 * digits or a lone Roman numeral) replaced by "#". A template is furniture when it sits at an edge
 * of at least `MIN_SHARE` of the pages with text, counted over all pages or over the odd or even
 * pages alone (books alternate their headers), and on at least `MIN_PAGES` pages. A short edge
 * line whose only number is the page number (a constant offset from the PDF page, the offset most
 * of the document agrees on) is furniture too, however rarely its words repeat: chapter headers
 * such as "INTRODUCTION 5". Documents of fewer than `MIN_PAGES` pages are left alone, and a line
 * found on only a few pages is never removed.
 */

/** Lines read at each end of a page. */
const EDGE_LINES = 3;
/** Least share of the pages (all, odd or even) on which a template must sit at an edge. */
const MIN_SHARE = 0.5;
/**
 * Least number of pages a furniture line is found on, and least document length looked at: on
 * three pages a repeated line is as likely a table's header row continued.
 */
const MIN_PAGES = 4;
/** Most words besides the page number on a page-number line. */
const PAGE_LINE_MAX_WORDS = 6;
/** Share of a template's lines whose number at one position must be constant or follow the page. */
const RUN_SHARE = 0.8;
/** How far apart two page-number lines may be for their offsets to be compared. */
const NEIGHBOUR_PAGES = 3;

export interface PageText {
  /** 1-based page number. */
  page: number;
  text: string;
}

const NUMBER = /\d+(?:[.,]\d+)*/g;
const ROMAN_LINE_WORD = /^(?=[ivxlcdm]+$)m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})$/;

export function lineTemplate(line: string): string {
  return line
    .toLowerCase()
    .replace(NUMBER, '#')
    .split(/\s+/)
    .filter((word) => word !== '')
    .map((word) => (ROMAN_LINE_WORD.test(word) ? '#' : word))
    .join(' ');
}

/**
 * Edge line indexes of a page: up to EDGE_LINES non-blank lines at each end (no overlap), in
 * order. Read from both ends inwards, so a long page costs no more than a short one.
 */
function edgeIndexes(lines: readonly string[]): number[] {
  const head: number[] = [];
  for (let index = 0; index < lines.length && head.length < EDGE_LINES; index++) {
    if (lines[index]!.trim() !== '') head.push(index);
  }
  const tail: number[] = [];
  const stop = head.at(-1) ?? -1;
  for (let index = lines.length - 1; index > stop && tail.length < EDGE_LINES; index--) {
    if (lines[index]!.trim() !== '') tail.push(index);
  }
  return head.concat(tail.reverse());
}

/** A page with text, its lines, and the edge lines' indexes and templates (computed once). */
interface PageLines {
  page: number;
  lines: string[];
  edges: number[];
  templates: string[];
}

/** Numbers in a line, as integers (thousand separators dropped). */
function numbersOf(line: string): number[] {
  return Array.from(line.matchAll(NUMBER), (match) => Number(match[0].replace(/[.,]/g, '')));
}

/**
 * The printed page number of a page-number line: a number alone ("12", "- 12 -", "[12]"; not "2.") or
 * first or last on a short line and set apart by a space ("12 FREE CULTURE", "INTRODUCTION 5"; not
 * "2. Transactions"). Null for any other line.
 */
function printedPageNumber(line: string): number | null {
  const trimmed = line.trim();
  const match =
    /^(?:[-–—[(] ?)?(\d{1,4})(?: ?[-–—\])])?$/u.exec(trimmed) ??
    /^(\d{1,4}) +[^\d]+$/u.exec(trimmed) ??
    /^[^\d]+ (\d{1,4})$/u.exec(trimmed);
  if (match?.[1] === undefined) return null;
  const words = trimmed.split(/\s+/).filter((word) => /\p{L}/u.test(word)).length;
  return words <= PAGE_LINE_MAX_WORDS ? Number(match[1]) : null;
}

/**
 * Page-number lines, as `page:lineIndex` keys: an edge line with a printed page number whose
 * offset to the PDF page (page − printed) is the same as that of a page-number line on a nearby
 * page; at most one a page. Offsets shift along a book (unnumbered plates, blank pages), so they are compared locally.
 * None when they are on fewer than half the pages: the numbers are then something else.
 */
function pageNumberLines(pages: readonly PageLines[]): Set<string> {
  const candidates: Array<{ page: number; index: number; offset: number }> = [];
  for (const { page, lines, edges } of pages) {
    for (const index of edges) {
      const printed = printedPageNumber(lines[index]!);
      if (printed !== null) candidates.push({ page, index, offset: page - printed });
    }
  }
  // Each page keeps the one candidate most neighbours agree with: footnote marks such as "(1)"
  // agree with one another now and then, page numbers with every page around them.
  const byPage = new Map<number, Array<{ index: number; offset: number }>>();
  for (const candidate of candidates) {
    const list = byPage.get(candidate.page) ?? [];
    list.push(candidate);
    byPage.set(candidate.page, list);
  }
  const best = new Map<number, { index: number; agreeing: number }>();
  for (const candidate of candidates) {
    let agreeing = 0;
    for (let page = candidate.page - NEIGHBOUR_PAGES; page <= candidate.page + NEIGHBOUR_PAGES; page++) {
      if (page === candidate.page) continue;
      for (const other of byPage.get(page) ?? []) if (other.offset === candidate.offset) agreeing++;
    }
    if (agreeing > (best.get(candidate.page)?.agreeing ?? 0)) {
      best.set(candidate.page, { index: candidate.index, agreeing });
    }
  }
  const accepted = new Set(Array.from(best, ([page, { index }]) => `${page}:${index}`));
  const acceptedPages = best;
  return acceptedPages.size >= Math.max(MIN_PAGES, pages.length * MIN_SHARE) ? accepted : new Set();
}

/**
 * Whether the numbers of a template's lines behave like a header's: at each position, from one
 * page to the next the number stays the same ("Vol. 12") or grows by no more than the page does
 * ("Page 3 of 20", "18 FREE CULTURE"). Numbered headings that happen to open pages ("Article 13",
 * "Article 17") do neither.
 */
function numbersRun(occurrences: ReadonlyArray<{ page: number; numbers: number[] }>): boolean {
  const width = occurrences[0]?.numbers.length ?? 0;
  if (occurrences.some((occurrence) => occurrence.numbers.length !== width)) return false;
  const sorted = [...occurrences].sort((a, b) => a.page - b.page);
  const pairs = sorted.length - 1;
  for (let position = 0; position < width; position++) {
    let same = 0;
    let following = 0;
    for (let i = 0; i < pairs; i++) {
      const step = sorted[i + 1]!.numbers[position]! - sorted[i]!.numbers[position]!;
      if (step === 0) same++;
      else if (step > 0 && step <= sorted[i + 1]!.page - sorted[i]!.page) following++;
    }
    if (same < pairs * RUN_SHARE && following < pairs * RUN_SHARE) return false;
  }
  return true;
}

/**
 * Removes running headers and footers from the pages' texts and returns them apart. Pages keep
 * their order and numbers; a page left without text keeps an empty text.
 */
export function removeFurniture(pages: readonly PageText[]): {
  pages: PageText[];
  furniture: PageFurniture[];
} {
  const nonBlank = pages.filter((page) => page.text.trim() !== '');
  if (nonBlank.length < MIN_PAGES) return { pages: pages.map((page) => ({ ...page })), furniture: [] };
  const withText: PageLines[] = nonBlank.map(({ page, text }) => {
    const lines = text.split('\n');
    const edges = edgeIndexes(lines);
    return { page, lines, edges, templates: edges.map((index) => lineTemplate(lines[index]!)) };
  });

  const furnitureTemplates = frequentEdgeTemplates(withText);
  const numberLines = pageNumberLines(withText);
  const isFurniture = ({ page, edges, templates }: PageLines, edge: number): boolean =>
    furnitureTemplates.has(templates[edge]!) || numberLines.has(`${page}:${edges[edge]}`);

  const found = new Map<string, PageFurniture>();
  const cleaned = new Map<number, string>();
  for (const entry of withText) {
    const { page, lines, edges } = entry;
    const drop = new Set<number>();
    // Peel from each end while the lines are furniture, never more than EDGE_LINES a side. The
    // edges are the first and last EDGE_LINES non-blank lines (all of them on a short page).
    for (let edge = 0; edge < Math.min(EDGE_LINES, edges.length); edge++) {
      if (!isFurniture(entry, edge)) break;
      drop.add(edges[edge]!);
    }
    for (let edge = edges.length - 1; edge >= Math.max(0, edges.length - EDGE_LINES); edge--) {
      if (drop.has(edges[edge]!) || !isFurniture(entry, edge)) break;
      drop.add(edges[edge]!);
    }
    for (const index of drop) {
      const line = lines[index]!.trim();
      const template = lineTemplate(line);
      const entry = found.get(template) ?? { text: line, template, pages: 0 };
      entry.pages++;
      found.set(template, entry);
    }
    if (drop.size > 0) cleaned.set(page, lines.filter((_, index) => !drop.has(index)).join('\n'));
  }
  return {
    pages: pages.map((page) => ({ page: page.page, text: cleaned.get(page.page) ?? page.text })),
    furniture: [...found.values()].sort((a, b) => b.pages - a.pages),
  };
}

/** Templates at an edge of at least MIN_SHARE of all, odd or even pages, and of MIN_PAGES pages. */
function frequentEdgeTemplates(pages: readonly PageLines[]): Set<string> {
  const counts = new Map<
    string,
    { all: number; odd: number; even: number; occurrences: Array<{ page: number; numbers: number[] }> }
  >();
  let odd = 0;
  for (const { page, lines, edges, templates } of pages) {
    if (page % 2 === 1) odd++;
    const seen = new Set<string>();
    for (const [edge, index] of edges.entries()) {
      const template = templates[edge]!;
      if (template === '' || seen.has(template)) continue;
      seen.add(template);
      const count = counts.get(template) ?? { all: 0, odd: 0, even: 0, occurrences: [] };
      count.occurrences.push({ page, numbers: numbersOf(lines[index]!) });
      count.all++;
      if (page % 2 === 1) count.odd++;
      else count.even++;
      counts.set(template, count);
    }
  }
  const even = pages.length - odd;
  const frequent = new Set<string>();
  for (const [template, count] of counts) {
    // A line of numbers alone ("12", "1,024") is left to the page-number rule: table rows end pages too.
    if (count.all < MIN_PAGES || !/[^#\s]/.test(template)) continue;
    const share = Math.max(
      count.all / pages.length,
      odd >= MIN_PAGES ? count.odd / odd : 0,
      even >= MIN_PAGES ? count.even / even : 0,
    );
    if (share >= MIN_SHARE && numbersRun(count.occurrences)) frequent.add(template);
  }
  return frequent;
}
