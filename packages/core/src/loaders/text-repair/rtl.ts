/**
 * Right-to-left lines in logical order.
 *
 * A PDF draws glyphs where they go, and extractors read a line left to right: an Arabic or Hebrew
 * line comes out in visual order. Two shapes are met:
 * - words in visual order, each word's letters in logical order (pdf.js reorders the letters of
 *   each text run but emits the runs as drawn): "عليكم السلام." reads as "السلام عليكم." backwards;
 * - everything in visual order, letters of each word reversed too.
 * Which shape a document has is decided once for the document from evidence in its RTL lines, and
 * only lines whose letters are mostly RTL are reordered (an English line quoting one Arabic word
 * is left alone):
 * - word order: a line that ends a sentence has its terminal punctuation on its last word in
 *   logical order and on its first word in visual order;
 * - letter order: Hebrew final letters (ך ם ן ף ץ) end words and the Arabic article "ال" starts
 *   them; reversed, they sit at the other end.
 * With no evidence either way a line is left as it is. Runs of left-to-right words (Latin,
 * numbers) inside an RTL line keep their own order. Arabic and Hebrew presentation forms (the
 * shaped glyphs' code points, lam-alef ligatures among them) are mapped back to base letters
 * (NFKC on those ranges only) after reordering, since a ligature reversed as one character must be
 * expanded in its logical place. Directional formatting characters are dropped.
 */

const RTL_LETTER = /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]/u;
const LETTER = /\p{L}/u;
/** Any character of the RTL blocks (letters, presentation forms, directional controls): a quick filter. */
const ANY_RTL = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFC\u202A-\u202E\u2066-\u2069]/;
/** A token that reads left to right: it has a non-RTL letter or a European digit. */
const LTR_TOKEN =
  /[0-9]|(?![\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}])\p{L}/u;
/** What ends a sentence or clause in Arabic, Persian, Urdu and Hebrew text. */
const TERMINAL = '.:!?؟،؛۔׃';
/** Arabic and Hebrew presentation forms: FB1D–FDFF (Hebrew, Arabic-A), FE70–FEFF (Arabic-B). */
const PRESENTATION_FORMS = /[\uFB1D-\uFDFF\uFE70-\uFEFC]+/g;
const HEBREW_FINALS = 'ךםןףץ';
const MIRRORED: Record<string, string> = {
  '(': ')',
  ')': '(',
  '[': ']',
  ']': '[',
  '{': '}',
  '}': '{',
  '«': '»',
  '»': '«',
  '<': '>',
  '>': '<',
};

/** Share of a line's letters that must be RTL for the line to be read as an RTL line. */
const RTL_LINE_SHARE = 0.6;

export interface RtlOrder {
  /** Words of RTL lines are in visual order (last word first). */
  wordsReversed: boolean;
  /** Letters of RTL words are in visual order (reversed). */
  lettersReversed: boolean;
}

/** Whether most of a line's letters (at least two) are right-to-left. */
export function isRtlLine(line: string): boolean {
  let rtl = 0;
  let letters = 0;
  for (const char of line) {
    if (!LETTER.test(char)) continue;
    letters++;
    if (RTL_LETTER.test(char)) rtl++;
  }
  return rtl >= 2 && rtl >= letters * RTL_LINE_SHARE;
}

/** Decides from the RTL lines of a whole document in which order their words and letters come. */
export function detectRtlOrder(lines: Iterable<string>): RtlOrder {
  let wordsVisual = 0;
  let wordsLogical = 0;
  let lettersReversed = 0;
  let lettersLogical = 0;
  for (const line of lines) {
    if (!isRtlLine(line)) continue;
    const tokens = line.trim().split(/\s+/);
    for (const token of tokens) {
      const letters = lettersEvidence(token);
      if (letters > 0) lettersLogical++;
      else if (letters < 0) lettersReversed++;
    }
    if (tokens.length < 2) continue;
    const firstMarked = endsSentence(tokens[0]!);
    const lastMarked = endsSentence(tokens.at(-1)!);
    if (firstMarked && !lastMarked) wordsVisual++;
    else if (lastMarked && !firstMarked) wordsLogical++;
  }
  return { wordsReversed: wordsVisual > wordsLogical, lettersReversed: lettersReversed > lettersLogical };
}

/**
 * A word carrying a sentence's terminal punctuation at either end. Numbers are not words here: a
 * numbered item ("1. ...", "١. ...") starts a logical line with a full stop.
 */
function endsSentence(token: string): boolean {
  if (!RTL_LETTER.test(token)) return false;
  return TERMINAL.includes(token.at(-1)!) || TERMINAL.includes(token[0]!);
}

/** +1: the token's letters read in logical order; -1: reversed; 0: no evidence. */
function lettersEvidence(token: string): number {
  const word = token.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '').normalize('NFKC');
  if ([...word].length < 3) return 0;
  const first = word[0]!;
  const last = word.at(-1)!;
  if (HEBREW_FINALS.includes(last) && !HEBREW_FINALS.includes(first)) return 1;
  if (HEBREW_FINALS.includes(first) && !HEBREW_FINALS.includes(last)) return -1;
  if (word.startsWith('ال') && !word.endsWith('لا')) return 1;
  if (word.endsWith('لا') && !word.startsWith('ال')) return -1;
  return 0;
}

/** Puts one line in logical order as `order` says, when it is an RTL line. */
export function reorderRtlLine(line: string, order: RtlOrder): string {
  if ((!order.wordsReversed && !order.lettersReversed) || !isRtlLine(line)) return line;
  const indent = /^\s*/.exec(line)![0];
  let tokens = line.trim().split(/\s+/);
  if (order.lettersReversed)
    tokens = tokens.map((token) => (LTR_TOKEN.test(token) ? token : reverseToken(token)));
  if (order.wordsReversed) tokens = reverseWords(tokens);
  return indent + tokens.join(' ');
}

/** Reverses the order of the words, keeping each run of left-to-right words in its own order. */
function reverseWords(tokens: string[]): string[] {
  const runs: string[][] = [];
  for (const token of tokens) {
    const ltr = LTR_TOKEN.test(token);
    const current = runs.at(-1);
    if (ltr && current !== undefined && LTR_TOKEN.test(current[0]!)) current.push(token);
    else runs.push([token]);
  }
  return runs.reverse().flat();
}

/** Reverses a token by grapheme (marks stay on their letter), mirroring brackets. */
function reverseToken(token: string): string {
  const graphemes = Array.from(GRAPHEMES.segment(token), (part) => MIRRORED[part.segment] ?? part.segment);
  return graphemes.reverse().join('');
}

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Maps Arabic and Hebrew presentation forms (including lam-alef ligatures) to base letters. */
export function expandRtlPresentationForms(text: string): string {
  return text.replace(PRESENTATION_FORMS, (forms) => forms.normalize('NFKC'));
}

/**
 * Directional embeddings, overrides and isolates (U+202A–202E, U+2066–2069): Poppler wraps RTL
 * lines and the neutral characters in them in these. Text in logical order needs none of them,
 * and left in, they split words for search ("מאוד\u202A.\u202C").
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

/** Every RTL line of the pages in logical order, then presentation forms mapped to letters. */
export function repairRtl(pages: readonly string[]): string[] {
  if (!pages.some((text) => ANY_RTL.test(text))) return [...pages];
  const bare = pages.map((text) => text.replace(BIDI_CONTROLS, ''));
  const order = detectRtlOrder(bare.flatMap((text) => text.split('\n')));
  return bare.map((text) =>
    expandRtlPresentationForms(
      text
        .split('\n')
        .map((line) => reorderRtlLine(line, order))
        .join('\n'),
    ),
  );
}
