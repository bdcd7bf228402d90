/**
 * cl100k_base's pre-tokenizer: where a text is cut into the pieces BPE encodes one by one.
 *
 * The pattern is tiktoken's, with its `(?i:…)` spelled out (JavaScript lacks it) and its `\s` as
 * Unicode's White_Space, as in Rust (JavaScript's `\s` also takes U+FEFF).
 */
export const PIECES =
  /'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\p{White_Space}\p{L}\p{N}]+[\r\n]*|\p{White_Space}*[\r\n]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/** The pattern anchored where it is asked (for one piece at a time). */
const PIECE_AT = new RegExp(PIECES.source, 'uy');

// What the pattern's classes make of an ASCII character.
const OTHER = 0; // neither letter, digit nor white space: punctuation, symbols, controls
const LETTER = 1;
const DIGIT = 2;
const SPACE = 3; // white space but CR and LF
const NEWLINE = 4; // CR, LF
/** A character outside ASCII, or the text's end. */
const BEYOND = 5;
const END = 6;

const ASCII_CLASS = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  ASCII_CLASS[code] =
    (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)
      ? LETTER
      : code >= 0x30 && code <= 0x39
        ? DIGIT
        : code === 0x0a || code === 0x0d
          ? NEWLINE
          : code === 0x09 || code === 0x0b || code === 0x0c || code === 0x20
            ? SPACE
            : OTHER;
}

function classAt(text: string, i: number): number {
  if (i >= text.length) return END;
  const code = text.charCodeAt(i);
  return code < 128 ? ASCII_CLASS[code]! : BEYOND;
}

/** The end of the run of `cls` characters from `i`, or -1 when a character outside ASCII could extend it. */
function runEnd(text: string, i: number, cls: number): number {
  let end = i;
  let next = classAt(text, end);
  while (next === cls) next = classAt(text, ++end);
  return next === BEYOND ? -1 : end;
}

/**
 * Where the piece that starts at `pos` ends, as {@link PIECES} cuts the text. ASCII text is cut by
 * hand, the pattern's alternatives tried in its order (several times faster than the pattern,
 * whose Unicode classes and match objects cost most of a count over warm piece counts); wherever a
 * character outside ASCII could change the piece, the pattern itself cuts it.
 */
export function pieceEnd(text: string, pos: number): number {
  const end = asciiPieceEnd(text, pos);
  if (end > pos) return end;
  PIECE_AT.lastIndex = pos;
  // `test` leaves the match's end in `lastIndex`, without a match object. Every character starts
  // some alternative; the guard only keeps a bad input from looping.
  return PIECE_AT.test(text) ? PIECE_AT.lastIndex : pos + 1;
}

/** {@link pieceEnd} for a piece that ASCII decides, else -1. */
function asciiPieceEnd(text: string, pos: number): number {
  const cls = classAt(text, pos);
  if (cls === BEYOND || cls === END) return -1;
  const code = text.charCodeAt(pos);
  // '[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]
  if (code === 0x27) {
    // Lower-cased by setting 0x20: only the two cases of each of these letters give its lower case
    // (a character past the end reads as NaN, 0x20 then).
    const a = text.charCodeAt(pos + 1) | 0x20;
    if (a === 0x73 || a === 0x74 || a === 0x6d || a === 0x64) return pos + 2;
    const b = text.charCodeAt(pos + 2) | 0x20;
    if ((a === 0x72 && b === 0x65) || (a === 0x76 && b === 0x65) || (a === 0x6c && b === 0x6c))
      return pos + 3;
  }
  const next = classAt(text, pos + 1);
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (cls === LETTER) return runEnd(text, pos + 1, LETTER);
  if (cls === OTHER || cls === SPACE) {
    if (next === LETTER) return runEnd(text, pos + 2, LETTER);
    if (next === BEYOND) return -1;
  }
  // \p{N}{1,3}
  if (cls === DIGIT) {
    let end = pos + 1;
    for (; end < pos + 3; end++) {
      const at = classAt(text, end);
      if (at === BEYOND) return -1;
      if (at !== DIGIT) break;
    }
    return end;
  }
  // ` ?[^\p{White_Space}\p{L}\p{N}]+[\r\n]*`
  let start = -1;
  if (cls === OTHER) start = pos;
  else if (code === 0x20 && next === OTHER) start = pos + 1;
  if (start >= 0) {
    const end = runEnd(text, start, OTHER);
    if (end < 0) return -1;
    let newlines = end;
    while (classAt(text, newlines) === NEWLINE) newlines++;
    return newlines;
  }
  // White space (SPACE or NEWLINE from here on): the run, to a character that is not white space.
  let end = pos;
  let lastNewline = -1;
  for (;;) {
    const at = classAt(text, end);
    if (at === NEWLINE) lastNewline = end;
    else if (at !== SPACE) {
      if (at === BEYOND) return -1;
      break;
    }
    end++;
  }
  // \p{White_Space}*[\r\n]+ : to the run's last CR or LF.
  if (lastNewline >= 0) return lastNewline + 1;
  // \p{White_Space}+(?!\P{White_Space}) : the run, but for its last character when text follows.
  if (end === text.length || end - pos === 1) return end;
  return end - 1;
}
