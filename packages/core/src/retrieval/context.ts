import { setImmediate } from 'node:timers/promises';
import { formatPassage, type Passage } from '@quire/api-client';
import { DEFAULT_CONTEXT_TOKENS } from '@quire/contracts';
import { QuireError } from '../errors.js';
import { LruMap } from '../lru-map.js';
import type { ChunkRecord } from '../vector-store/types.js';
import { boundedInteger, countTokens, oneLine, REQUEST_TURNS, yieldTurns } from './internal.js';
import type { RankedPassage } from './rerank.js';

/** Defaults and limits live with the contracts (the payloads and bodies that carry them). */
export { DEFAULT_CONTEXT_TOKENS };

export interface BuildContextOptions {
  /**
   * Most tokens of the passage block (the chunker's `countTokens`), numbering and sources included; the system
   * prompt and the question come on top.
   * @default 3000; a positive integer
   */
  tokenBudget?: number;
}

/** A passage as it is shown to the model. */
export interface ContextPassage {
  /** 1-based number the model cites it by, as `[number]`. */
  number: number;
  passage: RankedPassage;
  /** The text shown: whitespace collapsed, and shortened when `truncated`. */
  text: string;
  /** Document name and page range shown with it. */
  source: string;
  /** Whether `text` was cut to fit the budget (only ever the first passage). */
  truncated: boolean;
}

export interface AnswerContext {
  /** The numbered block, as `formatPassages` writes it: one `[n] (source: …) text` line per passage. */
  text: string;
  /** In rank order; `passages[n - 1]` is cited as `[n]`. */
  passages: ContextPassage[];
  /** Tokens of `text` (counted when first read). */
  tokens: number;
  /** Passages given that did not fit in the budget. */
  dropped: number;
}

const sentences = new Intl.Segmenter('und', { granularity: 'sentence' });

/**
 * Tokens of passage texts as a context line ends with them (`" " + text`), by text, the most
 * recently used last: the same passages come back in the answers of many questions over one
 * corpus. Exact, as the line's own count: a line is its head (`[n] (source: …)`, ending in `]` or
 * `)`), a space and the text, and the pieces BPE counts in (the chunker's `PIECES`) never
 * run across the end of a head — a closing bracket's piece stops before a space, and pieces are
 * read forwards only — so the line's count is the head's plus that of the space and the text.
 */
const textTokens = new LruMap<string, { tokens: number; chars: number }>(
  Number.POSITIVE_INFINITY,
  (entry) => {
    textTokensChars -= entry.chars;
  },
);
let textTokensChars = 0;
/**
 * Characters of text kept (about 2 bytes each), all passages together; a text cut from a longer one
 * may keep that one in memory, so up to about twice this.
 */
const MAX_TEXT_TOKENS_CHARS = 4_000_000;
/** Longer texts are counted each time. */
const MAX_CACHED_TEXT_CHARS = 32_768;

/** Tokens of `" " + text`, from the cache when the text was counted before. */
function lineTextTokens(text: string): number {
  const cached = textTokens.get(text);
  if (cached !== undefined) return cached.tokens;
  const tokens = countTokens(` ${text}`);
  if (text.length <= MAX_CACHED_TEXT_CHARS) {
    textTokens.set(text, { tokens, chars: text.length });
    textTokensChars += text.length;
    while (textTokensChars > MAX_TEXT_TOKENS_CHARS && textTokens.evictOldest()) {}
  }
  return tokens;
}

/**
 * Counts ahead of {@link buildContext} the texts of `passages` (best first) it has not counted
 * before, one a turn of the event loop, until `pending` settles. Called while the reranker's answer
 * is awaited, it moves the counting of passages new to this process off the question's path:
 * `buildContext` then finds their counts cached. It starts a few turns after it is called, meant
 * to follow the request onto the wire (a request still waiting for a rate limiter's admission then
 * goes out after the passage being counted), stops within one passage of `pending` settling (at
 * once when it is settled already, as with a model in process), and never rejects. It counts every
 * passage given, not only those an answer will show.
 */
export async function countPassagesAhead(
  passages: readonly { record: Pick<ChunkRecord, 'text'> }[],
  pending: Promise<unknown>,
): Promise<void> {
  let settled = false;
  const stop = (): void => {
    settled = true;
  };
  pending.then(stop, stop);
  try {
    await yieldTurns(REQUEST_TURNS);
    for (const passage of passages) {
      if (settled) return;
      const text = oneLine(passage.record.text);
      if (text.length > MAX_CACHED_TEXT_CHARS || textTokens.get(text) !== undefined) continue;
      lineTextTokens(text);
      await setImmediate();
    }
  } catch {
    // Counting ahead only saves time later; buildContext counts (and reports) for itself.
  }
}

/**
 * Tokens of `formatPassage({ text, source }, number)` for a text already on one line, its text's
 * share counted once per text. Exported for its tests.
 */
export function passageLineTokens(text: string, source: string, number: number): number {
  const head = formatPassage({ text: '', source }, number);
  // The head as formatted ends with the space before the text: counted with the text.
  return countTokens(head.slice(0, -1)) + lineTextTokens(text);
}

/**
 * The source shown with a passage: its document name, then `p. 3` or `pp. 3–5` when the format has
 * pages.
 */
export function passageSourceLabel(
  record: Pick<ChunkRecord, 'sourceName' | 'documentId' | 'pageStart' | 'pageEnd'>,
): string {
  const name = record.sourceName.trim() === '' ? record.documentId : record.sourceName;
  if (record.pageStart === null) return name;
  const end = record.pageEnd ?? record.pageStart;
  return end === record.pageStart
    ? `${name} p. ${record.pageStart}`
    : `${name} pp. ${record.pageStart}–${end}`;
}

/**
 * Numbers the passages [1]..[n] in rank order, with their sources, inside a token budget. Passages
 * are taken whole while they fit; the first one that does not fit ends the list. Only when the best
 * passage alone exceeds the budget is it cut — at a sentence boundary, or at a word boundary when
 * even its first sentence is too long — so that an answer always has something to read.
 */
export function buildContext(
  passages: readonly RankedPassage[],
  options: BuildContextOptions = {},
): AnswerContext {
  const budget = boundedInteger(
    'tokenBudget',
    options.tokenBudget,
    DEFAULT_CONTEXT_TOKENS,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const kept: ContextPassage[] = [];
  // The block's lines so far, each formatted once: the block is `lines.join('\n')`.
  const lines: string[] = [];
  // Tokens of the block so far, counted line by line (each line once, not the whole block again
  // per passage); a newline between lines counts as one more token, which never undercounts.
  let used = 0;
  const fits = (next: Passage): boolean =>
    used + countTokens(formatPassage(next, lines.length + 1)) + (lines.length > 0 ? 1 : 0) <= budget;

  for (const passage of passages) {
    const number = kept.length + 1;
    const source = passageSourceLabel(passage.record);
    const text = oneLine(passage.record.text);
    const line = formatPassage({ text, source }, number);
    let cost = passageLineTokens(text, source, number) + (lines.length > 0 ? 1 : 0);
    if (used + cost > budget && used + cost <= budget + 2) {
      // Near the edge, where merges across the newline matter: count the whole block exactly.
      cost = countTokens([...lines, line].join('\n')) - used;
    }
    if (used + cost <= budget) {
      kept.push({ number, passage, text, source, truncated: false });
      lines.push(line);
      used += cost;
      continue;
    }
    if (kept.length > 0) break;
    const cut = longestFittingPrefix(text, (prefix) => fits({ text: prefix, source }));
    if (cut === null) {
      throw new QuireError(
        'invalid_input',
        `tokenBudget ${budget} cannot hold even the first words of the best passage (from ${JSON.stringify(source)})`,
      );
    }
    kept.push({ number, passage, text: cut, source, truncated: true });
    lines.push(formatPassage({ text: cut, source }, number));
    break;
  }

  const text = lines.join('\n');
  // Counted when first read: `used` may count a token per newline too many, and only a report of
  // a shortened context reads the exact count (a second pass over the block otherwise).
  let tokens: number | undefined;
  return {
    text,
    passages: kept,
    get tokens() {
      tokens ??= countTokens(text);
      return tokens;
    },
    dropped: passages.length - kept.length,
  };
}

/** The longest run of whole sentences (else whole words of the first, marked with "…") that fits. */
function longestFittingPrefix(text: string, fits: (prefix: string) => boolean): string | null {
  let best: string | null = null;
  let prefix = '';
  for (const { segment } of sentences.segment(text)) {
    const next = `${prefix}${segment}`;
    if (!fits(next.trim())) break;
    prefix = next;
    best = next.trim();
  }
  if (best !== null && best !== '') return best;

  let words = '';
  for (const word of text.split(' ')) {
    const next = words === '' ? word : `${words} ${word}`;
    if (!fits(`${next}…`)) break;
    words = next;
  }
  return words === '' ? null : `${words}…`;
}
