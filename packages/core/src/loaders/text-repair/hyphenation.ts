/**
 * Line-end hyphenation rejoined: "param-\neters" → "parameters", while real compounds keep their
 * hyphen ("state-of-the-art", "Jean-Paul", "Nord-Süd", "pre-2020").
 *
 * A line that ends in letters and a hyphen (U+002D, U+2010 or a soft hyphen U+00AD), followed by a
 * line that starts with a letter, is a split. The rule, first match wins:
 * 1. a soft hyphen only ever marks a break: join;
 * 2. the next line starts with a digit, or its first word is a conjunction ("Haupt- und
 *    Nebensatz", "pre- and post-processing": a suspended hyphen): leave the line break alone;
 * 3. the part before the hyphen is itself a compound's tail ("state-of-") or the continuation is a
 *    compound's head ("of-the-art"), or the part before is a single letter ("e-mail", "X-ray"),
 *    or the word is a URL, path, address or identifier ("/", "@", "_" before the split; their
 *    hyphens are real, typesetters break them without adding one): keep the hyphen;
 * 4. the continuation starts with a capital while the part before is not all capitals
 *    ("Jean-Paul", "non-European", German "Nord-Süd"; German nouns are capitalised, so a
 *    split noun continues in lower case): keep the hyphen;
 * 5. the document itself decides when it can: the hyphenated form ("data-driven") seen more
 *    often than the joined one ("datadriven") elsewhere in the document keeps the hyphen; the joined
 *    form seen (at least as often) joins;
 * 6. with no evidence for either form, a few prefixes that keep their hyphen in English ("self-",
 *    "well-", "half-", "quasi-", "cross-", "ill-", "all-") keep it, and so do two parts of four
 *    letters or more that the document uses as words on their own ("free-software",
 *    "thirteenth-story"; not "over-turned", whose first part makes closed compounds);
 * 7. anything else is joined: a typeset line-end hyphen is far more often a break than a compound
 *    (measured on the corpus: see the README).
 * A joined or kept word moves whole onto the first line, so the line breaks stay where they were
 * otherwise; lines that do not end in a split (code among them) are never touched. The last line
 * of a page and the first line of the next are treated the same way (the continuation moves to
 * the earlier page), once running headers and footers are gone.
 */

/** A split: the last word of a line (what precedes its letters, the letters, the hyphen)... */
const LAST_WORD = /^(\S*?)([\p{L}\p{M}]+)([-\u00AD\u2010])$/u;
/** ...and the word starting the next line. */
const LINE_START = /^[ \t]*([\p{L}\p{M}]+)(\S*)/u;
const KEEP_PREFIXES = new Set(['self', 'well', 'half', 'quasi', 'cross', 'ill', 'all']);
/** Words that make closed compounds ("overturned", "outright"), not hyphenated ones. */
const CLOSED_PREFIXES = new Set([
  'over',
  'under',
  'with',
  'after',
  'back',
  'fore',
  'down',
  'some',
  'every',
  'into',
]);
/** Least letters of each part for two words of the document to be read as a compound of both. */
const MIN_COMPOUND_PART = 4;
/** Words that follow a suspended hyphen ("pre- and post-"), in the languages Quire meets most. */
const CONJUNCTIONS = new Set([
  'and',
  'or',
  'nor',
  'to',
  'und',
  'oder',
  'bzw',
  'sowie',
  'bis',
  'et',
  'ou',
  'y',
  'e',
  'o',
  've',
]);

export type HyphenDecision = 'join' | 'keep' | 'leave';

/**
 * How often each word (lower-cased, compounds whole) occurs outside line-end splits. Counted on
 * first use: most splits are decided before the document's words are needed, and text without
 * them (Poppler already joins most) never pays for the count.
 */
export class Vocabulary {
  readonly #pages: readonly string[];
  #counts: Map<string, { n: number }> | null = null;

  /** `pages` in order: a word split across a page break is left out too. */
  constructor(pages: readonly string[]) {
    this.#pages = pages;
  }

  count(word: string): number {
    this.#counts ??= countWords(this.#pages);
    return this.#counts.get(word.toLowerCase())?.n ?? 0;
  }
}

/** A character that belongs to a word: a letter, a mark, or a hyphen (compounds count whole). */
const WORD_CHAR = /^[\p{L}\p{M}\u2010-]$/u;
const UNKNOWN = 0;
const IN_WORD = 1;
const SEPARATOR = 2;
/** Classes of the Basic Multilingual Plane's code units, filled in as they are met. */
const wordClasses = new Uint8Array(0x10000);

/**
 * Word counts over the lower-cased text, scanned once with a class per code unit: the words are
 * the runs of letters, marks and hyphens, so compounds count whole (a tokenising or splitting regular
 * expression with Unicode classes costs several times more on long documents).
 * A split's first half keeps its hyphen ("param-") and matches no query; its second half
 * ("eters") would pass for a word, so it is taken off again.
 */
function countWords(pages: readonly string[]): Map<string, { n: number }> {
  // A mutable count per word: one lookup for a word met before instead of a get and a set.
  const counts = new Map<string, { n: number }>();
  const text = pages.join('\n').toLowerCase();
  const add = (token: string) => {
    const key = token.includes('\u2010') ? token.replace(/\u2010/g, '-') : token;
    const count = counts.get(key);
    if (count === undefined) counts.set(key, { n: 1 });
    else count.n++;
  };
  const length = text.length;
  let start = -1;
  for (let i = 0; i < length; i++) {
    const unit = text.charCodeAt(i);
    let cls = wordClasses[unit]!;
    if (cls === UNKNOWN) {
      cls = WORD_CHAR.test(String.fromCharCode(unit)) ? IN_WORD : SEPARATOR;
      wordClasses[unit] = cls;
    }
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < length) {
      const next = text.charCodeAt(i + 1);
      // A surrogate pair is one code point: a letter or mark outside the BMP is part of a word.
      if (next >= 0xdc00 && next <= 0xdfff && WORD_CHAR.test(text.slice(i, i + 2))) {
        if (start < 0) start = i;
        i++;
        continue;
      }
    }
    if (cls === IN_WORD) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      add(text.slice(start, i));
      start = -1;
    }
  }
  if (start >= 0) add(text.slice(start));
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!'-\u00AD\u2010'.includes(lines[i]!.trimEnd().at(-1) ?? ' ')) continue;
    const continuation = LINE_START.exec(lines[i + 1]!)?.[1];
    const count = continuation === undefined ? undefined : counts.get(continuation);
    if (count !== undefined) count.n--;
  }
  return counts;
}

/** Decides one split: `lead` precedes `stem` in the word, `rest` follows `continuation`. */
export function decideSplit(
  split: { lead: string; stem: string; hyphen: string; continuation: string; rest: string },
  vocabulary: Vocabulary,
): HyphenDecision {
  const { lead, stem, hyphen, continuation, rest } = split;
  if (hyphen === '\u00AD') return 'join';
  if (CONJUNCTIONS.has(continuation.toLowerCase()) && rest === '') return 'leave';
  if (/[-\u2010]$/.test(lead) || /^[-\u2010]\p{L}/u.test(rest) || [...stem].length === 1) return 'keep';
  if (/[/@_]/.test(lead)) return 'keep';
  const first = continuation[0]!;
  const capital = first !== first.toLowerCase();
  const stemCapitals = stem === stem.toUpperCase() && stem !== stem.toLowerCase();
  if (capital && !stemCapitals) return 'keep';
  const joined = vocabulary.count(stem + continuation);
  const hyphenated = vocabulary.count(`${stem}-${continuation}`);
  if (hyphenated > joined) return 'keep';
  if (joined > 0) return 'join';
  if (KEEP_PREFIXES.has(stem.toLowerCase())) return 'keep';
  const wordsOnTheirOwn =
    [...stem].length >= MIN_COMPOUND_PART &&
    [...continuation].length >= MIN_COMPOUND_PART &&
    !CLOSED_PREFIXES.has(stem.toLowerCase()) &&
    vocabulary.count(stem) > 0 &&
    vocabulary.count(continuation) > 0;
  return wordsOnTheirOwn ? 'keep' : 'join';
}

export interface HyphenationCount {
  /** Splits rejoined into one word. */
  joined: number;
  /** Splits kept as a hyphenated compound. */
  kept: number;
}

/**
 * Applies the rule to the split between `line` and `next`, if there is one: the whole word ends up
 * on `line`, `next` loses it. Null when there is no split or it is left alone.
 */
export function mendSplit(
  line: string,
  next: string,
  vocabulary: Vocabulary,
): { line: string; next: string; decision: 'join' | 'keep' } | null {
  const trimmed = line.trimEnd();
  if (!'-\u00AD\u2010'.includes(trimmed.at(-1) ?? ' ')) return null;
  // The last word alone is matched: a regular expression anchored at the end of a long line
  // would be tried from every position of it.
  const wordStart = Math.max(trimmed.lastIndexOf(' '), trimmed.lastIndexOf('\t')) + 1;
  const end = LAST_WORD.exec(trimmed.slice(wordStart));
  const start = LINE_START.exec(next);
  if (end === null || start === null) return null;
  const [, lead = '', stem = '', hyphen = ''] = end;
  const [matched, continuation = '', rest = ''] = start;
  const decision = decideSplit({ lead, stem, hyphen, continuation, rest }, vocabulary);
  if (decision === 'leave') return null;
  const head = trimmed.slice(0, wordStart + lead.length + stem.length) + (decision === 'keep' ? '-' : '');
  return {
    line: head + continuation + rest,
    next: next.slice(matched.length).replace(/^[ \t]+/, ''),
    decision,
  };
}

/** Rejoins the splits inside each page and across page breaks. */
export function rejoinHyphenation(pages: readonly string[]): { pages: string[]; count: HyphenationCount } {
  const vocabulary = new Vocabulary(pages);
  const count: HyphenationCount = { joined: 0, kept: 0 };
  const tally = (decision: 'join' | 'keep') => {
    if (decision === 'join') count.joined++;
    else count.kept++;
  };
  const lined = pages.map((text) => {
    // Built line by line (no splicing), so a page of many splits stays linear.
    const lines: string[] = [];
    // Blank lines held back after a line ending in a hyphen: an extractor that writes each column
    // as a block (Poppler) puts one between a column's last line and the next column's first.
    let held = 0;
    for (const line of text.split('\n')) {
      const previous = lines.at(-1);
      if (line.trim() === '' && previous !== undefined && endsWithHyphen(previous)) {
        held++;
        continue;
      }
      let mended = previous === undefined ? null : mendSplit(previous, line, vocabulary);
      // Across a column break only a plain join continues the word: a lower-case continuation.
      if (mended !== null && held > 0 && (mended.decision !== 'join' || !/^\p{Ll}/u.test(line.trimStart()))) {
        mended = null;
      }
      if (mended === null) {
        for (; held > 0; held--) lines.push('');
        lines.push(line);
        continue;
      }
      held = 0;
      tally(mended.decision);
      lines[lines.length - 1] = mended.line;
      if (mended.next.trim() !== '') lines.push(mended.next);
    }
    for (; held > 0; held--) lines.push('');
    return lines;
  });
  for (let p = 0; p + 1 < lined.length; p++) {
    const lines = lined[p]!;
    const following = lined[p + 1]!;
    const last = lastTextLine(lines);
    const first = following.findIndex((line) => line.trim() !== '');
    if (last < 0 || first < 0) continue;
    const mended = mendSplit(lines[last]!, following[first]!, vocabulary);
    if (mended === null) continue;
    tally(mended.decision);
    lines[last] = mended.line;
    if (mended.next.trim() === '') following.splice(first, 1);
    else following[first] = mended.next;
  }
  return { pages: lined.map((lines) => lines.join('\n')), count };
}

function endsWithHyphen(line: string): boolean {
  return '-\u00AD\u2010'.includes(line.trimEnd().at(-1) ?? ' ');
}

function lastTextLine(lines: readonly string[]): number {
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.trim() !== '') return i;
  return -1;
}
