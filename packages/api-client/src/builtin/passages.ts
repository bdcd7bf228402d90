/** One passage of context handed to the answering model. */
export interface Passage {
  /** The passage text; whitespace (newlines included) is collapsed to single spaces. */
  text: string;
  /** Where it comes from (file name, title, page), shown to the model; optional. */
  source?: string;
}

/** A passage read back out of a prompt, with the number it is cited by. */
export interface NumberedPassage {
  /** 1-based number, as in `[1]`. */
  number: number;
  text: string;
  source?: string;
}

/**
 * The answer the built-in answerer gives when the passages do not contain one. Exported so that
 * callers (and tests) can tell "not found" from an answer.
 */
export const NOT_FOUND_ANSWER = 'I could not find the answer in the provided documents.';

const PASSAGE_LINE_RE = /^\[(\d+)\] (?:\(source: ([^()\n]*)\) )?(.*)$/;

/** White-space runs that folding to one space changes (see {@link oneLine}). */
const FOLDED_WHITE_SPACE = /\s{2,}|[^\S ]/g;

/**
 * `text.replace(/\s+/g, ' ').trim()`, matching only the runs that change (two or more characters,
 * or one that is not a plain space): prose is mostly single spaces, and each replacement costs.
 */
function oneLine(text: string): string {
  return text.replace(FOLDED_WHITE_SPACE, ' ').trim();
}

/**
 * Formats passages as the numbered context block every answering model gets, one passage per line:
 *
 * ```text
 * [1] (source: handbook.pdf p. 3) First passage text.
 * [2] Second passage text, which has no source.
 * ```
 *
 * Each passage is kept on one line (whitespace collapsed) so that no passage text can start a
 * block of its own, and parentheses in a source become brackets so the line reads back exactly
 * (see {@link parsePassages}). Numbers start at 1, in the order given: cite `[n]` ↔ `passages[n-1]`.
 */
export function formatPassages(passages: readonly Passage[]): string {
  return passages.map((passage, i) => formatPassage(passage, i + 1)).join('\n');
}

/**
 * One line of a {@link formatPassages} block: the passage cited as `[number]`. A block is its lines
 * joined by `\n`, so that a caller building one passage at a time formats each passage once.
 */
export function formatPassage(passage: Passage, number: number): string {
  const source =
    passage.source === undefined || oneLine(passage.source) === ''
      ? ''
      : `(source: ${oneLine(passage.source).replace(/\(/g, '[').replace(/\)/g, ']')}) `;
  return `[${number}] ${source}${oneLine(passage.text)}`;
}

/** Reads the passages of a {@link formatPassages} block back, from anywhere inside a larger text. */
export function parsePassages(text: string): NumberedPassage[] {
  const passages: NumberedPassage[] = [];
  for (const line of text.split(/\r?\n/)) {
    const match = PASSAGE_LINE_RE.exec(line.trim());
    if (match === null) continue;
    const passage: NumberedPassage = { number: Number(match[1]), text: match[3] ?? '' };
    if (match[2] !== undefined) passage.source = match[2];
    passages.push(passage);
  }
  return passages;
}

/** Marks the question in an {@link formatAnswerPrompt} message. */
export const QUESTION_LABEL = 'Question:';

/**
 * The user message of a grounded question: the numbered passages, then the question. The
 * built-in answerer reads exactly this; a real chat model reads it as plain instructions.
 *
 * ```text
 * Passages:
 * [1] ...
 * [2] ...
 *
 * Question: ...
 * ```
 */
export function formatAnswerPrompt(question: string, passages: readonly Passage[]): string {
  return answerPromptFromBlock(question, formatPassages(passages));
}

/** Heads the passage block in a {@link formatAnswerPrompt} message. */
export const PASSAGES_HEADING = 'Passages:';

/**
 * {@link formatAnswerPrompt} for a passage block already written by {@link formatPassages} (the
 * context builder's, cut to its token budget). The one place the message's layout is written.
 */
export function answerPromptFromBlock(question: string, passageBlock: string): string {
  return `${PASSAGES_HEADING}\n${passageBlock}\n\n${QUESTION_LABEL} ${oneLine(question)}`;
}

/**
 * The question inside a user message: the text after the last `Question:` label, or else every
 * line that is not a passage (nor the `Passages:` heading).
 */
export function extractQuestion(text: string): string {
  const lines = text.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (line.startsWith(QUESTION_LABEL)) return line.slice(QUESTION_LABEL.length).trim();
  }
  return lines
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== PASSAGES_HEADING && !PASSAGE_LINE_RE.test(line))
    .join(' ');
}
