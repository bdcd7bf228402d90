import { QuireError } from '../errors.js';
import type { LoadedDocument } from '../loaders/types.js';
import { resolveChunkerOptions } from './options.js';
import {
  type Boundary,
  Break,
  cutAtOrAfter,
  cutAtOrBefore,
  endsClause,
  lineBreaks,
  sentenceBreaks,
  skipWhitespace,
  trimEnd,
  wordBreaks,
  wordStarts,
} from './text.js';
import { fitPrefix, fitSuffix, MAX_CHARS_PER_TOKEN, TextTokens } from './tokens.js';
import type { Chunk, ChunkerOptions } from './types.js';

/**
 * Version of the chunking rules. Changes whenever the same text, sections and options would give
 * different chunks; together with the options and `CHUNKER_ENCODING` it says whether stored chunks
 * are still what `chunkDocument` would make.
 */
export const CHUNKER_VERSION = 1;

/** A section is tiny, and may share a chunk with its tiny neighbours, up to this share of `chunkSize`. */
const TINY_SECTION_SHARE = 0.15;

/**
 * A chunk may end at a stronger boundary than the last one that fits only once it holds this share
 * of `chunkSize`; below it, filling the chunk wins over a nicer boundary.
 */
const MIN_FILL_SHARE = 0.5;

// A piece longer than chunkSize × this many characters is split into words before it is counted:
// it is almost surely too long, and counting one very long run of letters costs time quadratic in
// its length. A wrong guess costs nothing, as the words are packed together again.
const LONG_PIECE_CHARS_PER_TOKEN = 8;

// Whitespace this long in front of a word is not counted (a long run of one character is slow to
// count); it is taken as too long to join the text before it, so a chunk ends there.
const LONG_GAP_CHARS = 256;

// When an overlap has to start inside a piece, words are looked for this many characters per token
// of overlap back from the piece's end.
const OVERLAP_WINDOW_CHARS_PER_TOKEN = 12;

interface Span {
  /** Offsets of the section's text without its edge whitespace. */
  start: number;
  end: number;
  page: number | null;
  headingPath: readonly string[];
}

/** The smallest piece of text a chunk is built from; ends on content, opens with whitespace. */
interface Unit {
  start: number;
  end: number;
  /** Tokens of the unit alone; chunk counts are exact, this is the estimate that guides packing. */
  tokens: number;
  /** Part of `tokens` owed to the leading whitespace, which a chunk starting here trims away. */
  lead: number;
  /** Strength of the boundary in front of the unit. */
  level: Break;
  /** Index of the unit's section in its group. */
  section: number;
}

/** Overlap carried into the next chunk. */
interface Carry {
  start: number;
  tokens: number;
  /** Unit holding `start`. */
  unit: number;
}

/**
 * Splits a document into chunks of at most `chunkSize` tokens (exact, `countTokens`), each
 * an exact, trimmed slice of `doc.text`: `doc.text.slice(chunk.start, chunk.end) === chunk.text`.
 *
 * Structure: a chunk never holds text of two pages or two sections, with one exception. Runs of
 * consecutive tiny sections (each at most 15 % of `chunkSize` tokens) are merged into one chunk
 * when all of them are on the same page (or all have no page), share the same top-level heading
 * (`headingPath[0]`, or all have none), only whitespace lies between them, and the run fits in
 * `chunkSize`. A merged chunk's `headingPath` is the part common to its sections. Text outside
 * every section is not chunked; with no sections at all, the whole text is one section without
 * page or headings.
 *
 * Boundaries, strongest first: paragraph (a blank line), sentence end (with or without a line
 * break after it), line break, then, inside a sentence too long for a chunk, clause end (after
 * `,` `;` `:` `，` `、` …), word, and a cut between two characters for runs without any (long URLs,
 * base64, letters without spaces). A line break inside a sentence ranks below a sentence end
 * because extracted text (PDF lines, hard-wrapped prose) breaks lines anywhere. A chunk is filled
 * greedily, then ends at the strongest boundary among those that leave it at least half full, the
 * latest one on a tie. Sentences and words come from `Intl.Segmenter`, so CJK text without spaces
 * is cut at "。" and then between words.
 *
 * Overlap: consecutive chunks of one section share at most `chunkOverlap` tokens: the next chunk
 * starts at the earliest sentence start within that budget, else line start, else clause start,
 * else word start, else at a character cut. The overlap never spans the whole previous chunk and shrinks when the
 * next piece of text would not fit with it.
 *
 * Deterministic: the same text, sections and options give the same chunks.
 *
 * @throws QuireError `invalid_input` for options out of range or sections that do not match
 *   `doc.text` (out of order, overlapping, or with a `text` other than the document's at `start`).
 */
export function chunkDocument(
  doc: Pick<LoadedDocument, 'text' | 'sections'>,
  options: Partial<ChunkerOptions> = {},
): Chunk[] {
  const opts = resolveChunkerOptions(options);
  const chunks: Chunk[] = [];
  const counts = new TextTokens(doc.text);
  for (const group of groupSpans(counts, sectionSpans(doc), opts)) {
    packGroup(counts, group, buildUnits(counts, group, opts), opts, chunks);
  }
  return chunks;
}

function sectionSpans(doc: Pick<LoadedDocument, 'text' | 'sections'>): Span[] {
  const { text } = doc;
  const sections = doc.sections.length > 0 ? doc.sections : [{ text, page: null, headingPath: [], start: 0 }];
  const spans: Span[] = [];
  let previousEnd = 0;
  for (const [k, section] of sections.entries()) {
    const end = section.start + section.text.length;
    if (!Number.isSafeInteger(section.start) || section.start < 0) {
      throw new QuireError(
        'invalid_input',
        `section ${k} has no valid start offset: ${String(section.start)}`,
        {
          details: { section: k, start: section.start },
        },
      );
    }
    if (section.start < previousEnd) {
      throw new QuireError(
        'invalid_input',
        `section ${k} starts at ${section.start}, before the end of the section before it (${previousEnd})`,
        { details: { section: k, start: section.start } },
      );
    }
    if (end > text.length || !text.startsWith(section.text, section.start)) {
      throw new QuireError(
        'invalid_input',
        `section ${k} does not match the document text at offset ${section.start}`,
        { details: { section: k, start: section.start, length: section.text.length } },
      );
    }
    previousEnd = end;
    const start = skipWhitespace(text, section.start, end);
    const stop = trimEnd(text, start, end);
    if (start < stop) spans.push({ start, end: stop, page: section.page, headingPath: section.headingPath });
  }
  return spans;
}

/** Tokens of a span when it is tiny, else false; never counts a long span. */
function tinyTokens(counts: TextTokens, span: Span, limit: number): number | false {
  // No token is longer than MAX_CHARS_PER_TOKEN characters, so a longer span cannot be tiny.
  if (span.end - span.start > limit * MAX_CHARS_PER_TOKEN) return false;
  return counts.countWithin(span.start, span.end, limit);
}

/** Groups spans per the tiny-section rule of {@link chunkDocument}; most groups hold one span. */
function groupSpans(counts: TextTokens, spans: Span[], opts: ChunkerOptions): Span[][] {
  const { text } = counts;
  const limit = Math.floor(opts.chunkSize * TINY_SECTION_SHARE);
  const groups: Span[][] = [];
  let group: Span[] = [];
  // Estimated tokens of the group when all its spans are tiny, else false.
  let groupTokens: number | false = false;
  for (const span of spans) {
    const tokens = tinyTokens(counts, span, limit);
    const previous = group[group.length - 1];
    if (
      previous !== undefined &&
      groupTokens !== false &&
      tokens !== false &&
      // One more token for the whitespace between the two.
      groupTokens + tokens + 1 <= opts.chunkSize &&
      previous.page === span.page &&
      previous.headingPath[0] === span.headingPath[0] &&
      skipWhitespace(text, previous.end, span.start) === span.start
    ) {
      group.push(span);
      groupTokens += tokens + 1;
      continue;
    }
    if (group.length > 0) groups.push(group);
    group = [span];
    groupTokens = tokens;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** Paragraph, sentence and line boundaries strictly inside [from, to), ascending. */
function structuralBoundaries(text: string, from: number, to: number): Boundary[] {
  const lines = lineBreaks(text, from, to);
  const sentences: number[] = [];
  const addSentences = (start: number, end: number): void => {
    for (const pos of sentenceBreaks(text, start, end)) sentences.push(pos);
  };
  let paragraphStart = from;
  for (const line of lines) {
    if (line.level !== Break.Paragraph) continue;
    addSentences(paragraphStart, line.pos);
    paragraphStart = skipWhitespace(text, line.pos, to);
  }
  addSentences(paragraphStart, to);

  const merged: Boundary[] = [];
  let l = 0;
  let s = 0;
  while (l < lines.length || s < sentences.length) {
    const line = lines[l];
    const sentence = sentences[s];
    if (line !== undefined && (sentence === undefined || line.pos <= sentence)) {
      const both = sentence === line.pos;
      merged.push({
        pos: line.pos,
        level: both ? (Math.max(line.level, Break.Sentence) as Break) : line.level,
      });
      l++;
      if (both) s++;
    } else if (sentence !== undefined) {
      merged.push({ pos: sentence, level: Break.Sentence });
      s++;
    }
  }
  return merged;
}

/** Adds units to `units`, splitting a piece further when it is over its budget. */
class UnitSplitter {
  private readonly chunkSize: number;
  /** Words longer than this are cut, leaving room for an overlap in front of each part. */
  private readonly wordBudget: number;
  private readonly text: string;

  constructor(
    private readonly counts: TextTokens,
    private readonly units: Unit[],
    opts: ChunkerOptions,
  ) {
    this.text = counts.text;
    this.chunkSize = opts.chunkSize;
    this.wordBudget = opts.chunkSize - opts.chunkOverlap;
  }

  /** A piece (paragraph, line or sentence) as one unit when it fits in a chunk, else its words. */
  piece(start: number, end: number, level: Break, section: number): void {
    if (!this.whole(start, end, level, section, this.chunkSize)) {
      this.words(start, end, level, section, this.wordBudget);
    }
  }

  /** One unit per word (with the whitespace before it); words over `budget` are cut. */
  words(start: number, end: number, level: Break, section: number, budget: number): void {
    let pos = start;
    let wordLevel = level;
    for (const next of wordBreaks(this.text, skipWhitespace(this.text, start, end), end)) {
      if (!this.whole(pos, next, wordLevel, section, budget)) {
        this.cuts(pos, next, wordLevel, section, budget);
      }
      pos = next;
      wordLevel = endsClause(this.text, next) ? Break.Clause : Break.Word;
    }
    if (!this.whole(pos, end, wordLevel, section, budget)) this.cuts(pos, end, wordLevel, section, budget);
  }

  /** Adds [start, end) as one unit if it is within `budget` tokens; false when it is not. */
  private whole(start: number, end: number, level: Break, section: number, budget: number): boolean {
    if (end - start > budget * LONG_PIECE_CHARS_PER_TOKEN) return false;
    const tokens = this.counts.countWithin(start, end, budget);
    if (tokens === false) return false;
    this.units.push({ start, end, tokens, lead: 0, level, section });
    return true;
  }

  /** Parts of at most `budget` tokens, cut between characters. */
  private cuts(start: number, end: number, level: Break, section: number, budget: number): void {
    let pos = start;
    let partLevel = level;
    let previousLength: number | undefined;
    while (pos < end) {
      // Leading whitespace stays with the part but is not measured with it, so every part has
      // content within the budget.
      const from = skipWhitespace(this.text, pos, end);
      if (from === end) break;
      const { cut, tokens } = fitPrefix(this.counts, from, end, budget, previousLength);
      const lead = this.gapTokens(pos, from);
      this.units.push({ start: pos, end: cut, tokens: tokens + lead, lead, level: partLevel, section });
      previousLength = cut - from;
      pos = cut;
      partLevel = Break.Hard;
    }
  }

  private gapTokens(start: number, end: number): number {
    if (end - start > LONG_GAP_CHARS) return this.chunkSize + 1;
    return this.counts.count(start, end);
  }
}

function buildUnits(counts: TextTokens, group: Span[], opts: ChunkerOptions): Unit[] {
  const { text } = counts;
  const units: Unit[] = [];
  const splitter = new UnitSplitter(counts, units, opts);
  for (const [section, span] of group.entries()) {
    // The whitespace between two merged sections opens the second one's first unit.
    let pos = section === 0 ? span.start : (group[section - 1]?.end ?? span.start);
    let level: Break = Break.Section;
    for (const boundary of structuralBoundaries(text, span.start, span.end)) {
      splitter.piece(pos, boundary.pos, level, section);
      pos = boundary.pos;
      level = boundary.level;
    }
    splitter.piece(pos, span.end, level, section);
  }
  return units;
}

/**
 * Replaces a unit whose text, trimmed for a chunk, counted `tokens` > chunkSize (BPE counts a word
 * without its leading space differently) by smaller units: its words, else cut parts.
 */
function resplitUnit(
  counts: TextTokens,
  units: Unit[],
  index: number,
  tokens: number,
  opts: ChunkerOptions,
): void {
  const { text } = counts;
  const unit = units[index]!;
  const budget = Math.max(1, Math.min(opts.chunkSize - opts.chunkOverlap, tokens - 1));
  const parts: Unit[] = [];
  new UnitSplitter(counts, parts, opts).words(unit.start, unit.end, unit.level, unit.section, budget);
  if (parts.length < 2) {
    // Counts need not shrink with the text, so the split may hand back the whole unit: halve it,
    // which ends the loop (a unit over 32 tokens has more than one character).
    const from = skipWhitespace(text, unit.start, unit.end);
    const half = from + Math.floor((unit.end - from) / 2);
    let mid = cutAtOrBefore(text, half, from);
    if (mid <= from) mid = cutAtOrAfter(text, half, unit.end);
    parts.length = 0;
    for (const [start, end, level] of [
      [unit.start, mid, unit.level],
      [mid, unit.end, Break.Hard],
    ] as const) {
      parts.push({
        start,
        end,
        tokens: counts.count(start, end),
        lead: 0,
        level,
        section: unit.section,
      });
    }
  }
  units.splice(index, 1, ...parts);
}

/**
 * Where to end a chunk holding units [first, c) for some c in (first, last]: the strongest
 * boundary in front of unit c among those leaving the chunk at least `minFill` tokens, else `last`.
 */
function chooseCut(units: Unit[], first: number, last: number, carried: number, minFill: number): number {
  let best = last;
  let bestLevel = -1;
  let total = carried;
  for (let c = first + 1; c <= last; c++) {
    total += units[c - 1]!.tokens;
    if (total < minFill && c < last) continue;
    const level = units[c]?.level ?? Break.Section;
    if (level >= bestLevel) {
      best = c;
      bestLevel = level;
    }
  }
  return best;
}

function packGroup(
  counts: TextTokens,
  group: Span[],
  units: Unit[],
  opts: ChunkerOptions,
  out: Chunk[],
): void {
  const { text } = counts;
  const { chunkSize } = opts;
  const minFill = Math.ceil(chunkSize * MIN_FILL_SHARE);
  let first = 0;
  let carry: Carry | null = null;
  while (first < units.length) {
    // Tokens in front of the new units: the overlap, or minus the whitespace trimmed off the first.
    const carried = carry?.tokens ?? -(units[first]?.lead ?? 0);
    let last = first;
    let total = carried;
    while (last < units.length && total + units[last]!.tokens <= chunkSize) {
      total += units[last]!.tokens;
      last++;
    }
    let end =
      last === first ? first : last === units.length ? last : chooseCut(units, first, last, carried, minFill);

    let emitted = false;
    // Tokens of the last chunk tried and found too long (or the estimate when none was tried).
    let failed = units[first]!.tokens;
    while (end > first) {
      const startUnit = carry?.unit ?? first;
      const start = carry?.start ?? skipWhitespace(text, units[first]!.start, units[first]!.end);
      const stop = trimEnd(text, start, units[end - 1]!.end);
      const tokens = counts.count(start, stop);
      if (tokens <= chunkSize) {
        const chunkText = text.slice(start, stop);
        out.push(makeChunk(out.length, chunkText, tokens, start, stop, group, units, startUnit, end - 1));
        carry = overlapFor(counts, units, startUnit, start, stop, end, opts);
        first = end;
        emitted = true;
        break;
      }
      failed = tokens;
      // The estimate was short (tokens merge differently across joins): end one unit earlier.
      end = end - 1 > first ? chooseCut(units, first, end - 1, carried, minFill) : first;
    }
    if (emitted) continue;
    if (carry !== null) {
      // Not even the next unit fits beside the overlap: drop the overlap.
      carry = null;
    } else {
      resplitUnit(counts, units, first, failed, opts);
    }
  }
}

function makeChunk(
  index: number,
  text: string,
  tokenCount: number,
  start: number,
  end: number,
  group: Span[],
  units: Unit[],
  firstUnit: number,
  lastUnit: number,
): Chunk {
  const spans = group.slice(units[firstUnit]!.section, units[lastUnit]!.section + 1);
  let headingPath = [...(spans[0]?.headingPath ?? [])];
  let pageStart: number | null = null;
  let pageEnd: number | null = null;
  for (const span of spans) {
    let common = 0;
    while (common < headingPath.length && headingPath[common] === span.headingPath[common]) common++;
    headingPath = headingPath.slice(0, common);
    if (span.page !== null) {
      pageStart = pageStart === null ? span.page : Math.min(pageStart, span.page);
      pageEnd = pageEnd === null ? span.page : Math.max(pageEnd, span.page);
    }
  }
  return { index, text, tokenCount, start, end, pageStart, pageEnd, headingPath };
}

/**
 * The overlap the chunk after units [.., end) starts with, or null. `startUnit`, `chunkStart` and
 * `chunkStop` locate the chunk just emitted; the overlap begins strictly after its start, ends
 * where it ends, and its exact count is within the budget.
 */
function overlapFor(
  counts: TextTokens,
  units: Unit[],
  startUnit: number,
  chunkStart: number,
  chunkStop: number,
  end: number,
  opts: ChunkerOptions,
): Carry | null {
  const { text } = counts;
  const next = units[end];
  if (next === undefined || next.level === Break.Section || opts.chunkOverlap === 0) return null;
  const budget = Math.min(opts.chunkOverlap, opts.chunkSize - next.tokens);
  if (budget <= 0) return null;

  // Unit starts within the budget by estimate, earliest first.
  const starts: { unit: number; level: Break }[] = [];
  let estimate = 0;
  for (let k = end - 1; k > startUnit; k--) {
    const unit = units[k]!;
    // Overlap stays inside the section (a chunk of merged tiny sections may hold several).
    if (unit.section !== next.section) break;
    estimate += unit.tokens;
    if (estimate > budget) break;
    starts.unshift({ unit: k, level: unit.level });
  }
  // Earliest sentence start, else line start, else clause start, else any unit start (words and
  // cut parts inside a long sentence) whose exact count fits.
  for (const minLevel of [Break.Sentence, Break.Line, Break.Clause, Break.Hard]) {
    for (const candidate of starts) {
      if (candidate.level < minLevel) continue;
      const unit = units[candidate.unit]!;
      const start = skipWhitespace(text, unit.start, unit.end);
      const tokens = counts.count(start, chunkStop);
      if (tokens <= budget) return { start, tokens, unit: candidate.unit };
    }
  }

  // The last unit alone is over the budget: start on a word inside it, else at a character cut.
  const lastIndex = end - 1;
  const last = units[lastIndex]!;
  const floor = Math.max(last.start, chunkStart + 1);
  if (floor >= chunkStop) return null;
  const windowStart = Math.max(floor, chunkStop - budget * OVERLAP_WINDOW_CHARS_PER_TOKEN);
  const wordStartsInWindow = wordStarts(text, windowStart, chunkStop);
  // Counts fall as the start moves right: find the earliest word start that fits.
  let lo = 0;
  let hi = wordStartsInWindow.length;
  let found: Carry | null = null;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const start = wordStartsInWindow[mid]!;
    const tokens = counts.count(start, chunkStop);
    if (tokens <= budget) {
      found = { start, tokens, unit: lastIndex };
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  if (found !== null) return found;

  const { cut } = fitSuffix(counts, floor, chunkStop, budget);
  const start = skipWhitespace(text, cut, chunkStop);
  if (start >= chunkStop) return null;
  // Without the whitespace it was measured with, a word can count differently.
  const tokens = counts.count(start, chunkStop);
  return tokens <= budget ? { start, tokens, unit: lastIndex } : null;
}
