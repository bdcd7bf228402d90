/** Character classes and boundary finding over the document text, all by offset (no copies kept). */

/** Same set as the `\s` of JavaScript regular expressions, so trimming agrees with `String#trim`. */
export function isWhitespace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** First offset in [from, to) that is not whitespace, or `to`. */
export function skipWhitespace(text: string, from: number, to: number): number {
  let i = from;
  while (i < to && isWhitespace(text.charCodeAt(i))) i++;
  return i;
}

/** Offset just after the last non-whitespace character in [from, to), or `from`. */
export function trimEnd(text: string, from: number, to: number): number {
  let i = to;
  while (i > from && isWhitespace(text.charCodeAt(i - 1))) i--;
  return i;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** True when a cut at `pos` would separate the two halves of a surrogate pair. */
export function splitsSurrogatePair(text: string, pos: number): boolean {
  return (
    pos > 0 &&
    pos < text.length &&
    isLowSurrogate(text.charCodeAt(pos)) &&
    isHighSurrogate(text.charCodeAt(pos - 1))
  );
}

const GRAPHEMES = new Intl.Segmenter('en', { granularity: 'grapheme' });

// Grapheme clusters are short; this much context on each side decides whether a cut splits one.
const GRAPHEME_CONTEXT = 32;

/**
 * True when `pos` is between two user-perceived characters: not inside a surrogate pair, nor
 * before an accent, nor inside an emoji sequence (ZWJ, skin tone, flag), which would leave half of
 * one at the start of the next chunk.
 */
function isCleanCut(text: string, pos: number): boolean {
  if (pos <= 0 || pos >= text.length) return true;
  if (splitsSurrogatePair(text, pos)) return false;
  const from = Math.max(0, pos - GRAPHEME_CONTEXT);
  const window = text.slice(from, Math.min(text.length, pos + GRAPHEME_CONTEXT));
  for (const { index } of GRAPHEMES.segment(window)) {
    if (from + index === pos) return true;
    if (from + index > pos) return false;
  }
  return false;
}

/**
 * Nearest cut at or before `pos` and after `min` between two user-perceived characters; when none
 * is that close (a cluster longer than the context, or `min` in the way), the nearest code point
 * boundary. `min` when there is no cut at all.
 */
export function cutAtOrBefore(text: string, pos: number, min: number): number {
  const reach = Math.max(min, pos - GRAPHEME_CONTEXT);
  for (let p = pos; p > reach; p--) if (isCleanCut(text, p)) return p;
  let p = pos;
  while (p > min && splitsSurrogatePair(text, p)) p--;
  return p;
}

/** Nearest cut at or after `pos` and before `max`, mirror of {@link cutAtOrBefore}; `max` when none. */
export function cutAtOrAfter(text: string, pos: number, max: number): number {
  const reach = Math.min(max, pos + GRAPHEME_CONTEXT);
  for (let p = pos; p < reach; p++) if (isCleanCut(text, p)) return p;
  let p = pos;
  while (p < max && splitsSurrogatePair(text, p)) p++;
  return p;
}

/** Strength of the boundary in front of a piece of text; chunks prefer to end at strong ones. */
export const Break = {
  /** Inside a run of text with no usable boundary (long tokens, URLs, base64). */
  Hard: 0,
  Word: 1,
  /** After a comma, semicolon, colon or dash inside a sentence too long for one chunk. */
  Clause: 2,
  /** A line break inside a sentence: hard-wrapped prose, PDF lines, list items. */
  Line: 3,
  /** The end of a sentence, whether or not a line break follows it. */
  Sentence: 4,
  Paragraph: 5,
  /** Between two sections merged into one group (see `chunkDocument`). */
  Section: 6,
} as const;
export type Break = (typeof Break)[keyof typeof Break];

export interface Boundary {
  /** Offset where the previous piece's content ends; the whitespace after it opens the next piece. */
  pos: number;
  level: Break;
}

function isLineTerminator(code: number): boolean {
  return code === 0x0a || code === 0x0d || code === 0x0b || code === 0x0c || code === 0x2028;
}

/**
 * Line and paragraph breaks strictly inside [from, to), which must start and end with content.
 * A whitespace run with two or more line ends (CRLF counting once), a form feed or a paragraph
 * separator is a paragraph break; one line end is a line break.
 */
export function lineBreaks(text: string, from: number, to: number): Boundary[] {
  const breaks: Boundary[] = [];
  let i = from;
  while (i < to) {
    const code = text.charCodeAt(i);
    if (!isLineTerminator(code) && code !== 0x2029) {
      i++;
      continue;
    }
    const runStart = trimEnd(text, from, i);
    const runEnd = skipWhitespace(text, i, to);
    let lineEnds = 0;
    let paragraph = false;
    for (let k = runStart; k < runEnd; k++) {
      const c = text.charCodeAt(k);
      if (c === 0x0c || c === 0x2029) paragraph = true;
      else if (c === 0x0d && text.charCodeAt(k + 1) === 0x0a) continue;
      else if (isLineTerminator(c)) lineEnds++;
    }
    breaks.push({ pos: runStart, level: paragraph || lineEnds >= 2 ? Break.Paragraph : Break.Line });
    i = runEnd;
  }
  return breaks;
}

const SENTENCES = new Intl.Segmenter('en', { granularity: 'sentence' });
const WORDS = new Intl.Segmenter('en', { granularity: 'word' });

// The sentence rules treat every line end as the end of a sentence; hard-wrapped prose would then
// be cut at each line. Line ends are seen as spaces (same length, so offsets hold) and line
// breaks are reported by `lineBreaks` instead.
const LINE_TERMINATORS = /[\n\r\v\f\u2028\u2029]/g;

function asOneLine(slice: string): string {
  return slice.replace(LINE_TERMINATORS, ' ');
}

interface WindowPlan {
  segmenter: Intl.Segmenter;
  /** Characters handed to the segmenter at once. */
  size: number;
  /** Boundaries this close to a window's cut end are found again from the next window, with context. */
  margin: number;
  prepare?: (slice: string) => string;
}

// Iterating the segments of one long string is quadratic in V8 (Node 20: 64k characters of prose
// took 150 ms for sentences and 1.7 s for words); windows of fixed size keep it linear.
const SENTENCE_WINDOWS: WindowPlan = { segmenter: SENTENCES, size: 2048, margin: 128, prepare: asOneLine };
const WORD_WINDOWS: WindowPlan = { segmenter: WORDS, size: 512, margin: 32 };

/** Segment starts strictly inside (from, to), ascending. */
function segmentStarts(text: string, from: number, to: number, plan: WindowPlan): number[] {
  const starts: number[] = [];
  let p = from;
  while (p < to) {
    const w = Math.min(to, p + plan.size);
    const last = w === to;
    const limit = last ? to : w - plan.margin;
    const raw = text.slice(p, w);
    const slice = plan.prepare ? plan.prepare(raw) : raw;
    let found = p;
    for (const { index } of plan.segmenter.segment(slice)) {
      const pos = p + index;
      if (pos === p) continue;
      if (pos >= limit) break;
      starts.push(pos);
      found = pos;
    }
    if (last) break;
    // Restart at a known boundary so the next window sees the sentence (or word) from its start.
    p = found > p ? found : limit;
  }
  return starts;
}

/** Content-end offsets of sentence boundaries strictly inside [from, to) (which starts with content). */
export function sentenceBreaks(text: string, from: number, to: number): number[] {
  const out: number[] = [];
  for (const start of segmentStarts(text, from, to, SENTENCE_WINDOWS)) {
    const pos = trimEnd(text, from, start);
    if (pos > from && pos !== out[out.length - 1]) out.push(pos);
  }
  return out;
}

/** Content-end offsets of word boundaries strictly inside [from, to) (which starts with content). */
export function wordBreaks(text: string, from: number, to: number): number[] {
  const out: number[] = [];
  for (const start of segmentStarts(text, from, to, WORD_WINDOWS)) {
    const pos = trimEnd(text, from, start);
    if (pos > from && pos !== out[out.length - 1]) out.push(pos);
  }
  return out;
}

const CLAUSE_END = /[,;:\u2013\u2014\u3001\uff0c\uff1a\uff1b]/;

/** True when the text before `pos` ends a clause (`,` `;` `:` `–` `—` `、` `，` `：` `；`). */
export function endsClause(text: string, pos: number): boolean {
  return pos > 0 && CLAUSE_END.test(text[pos - 1]!);
}

/** Offsets in (from, to) where a word starts, for overlaps that begin on a word. */
export function wordStarts(text: string, from: number, to: number): number[] {
  return segmentStarts(text, from, to, WORD_WINDOWS).filter((pos) => !isWhitespace(text.charCodeAt(pos)));
}
