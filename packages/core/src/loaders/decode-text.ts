import { DocumentError } from '../errors.js';

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be';

export interface DecodedText {
  /** The text without byte-order mark, with LF line ends. */
  text: string;
  encoding: TextEncodingName;
}

export type TextCheck = { ok: true; decoded: DecodedText } | { ok: false; binary: boolean; reason: string };

/**
 * A few invalid UTF-8 sequences in a large file (a truncated last character, one stray byte) are
 * tolerated and become U+FFFD; more than one per this many bytes means the file is not UTF-8.
 */
const BYTES_PER_TOLERATED_INVALID_SEQUENCE = 1_000;
/** Text files hold almost no control characters; binary files are full of them. */
const MAX_CONTROL_CHAR_RATIO = 0.01;

/**
 * Decides whether bytes are text this project reads (UTF-8, or UTF-16 with a byte-order mark)
 * and decodes them. Never throws: callers turn a failed check into the error that fits.
 */
export function checkText(bytes: Uint8Array): TextCheck {
  const bom = detectBom(bytes);
  if (bom !== null) {
    try {
      const text = new TextDecoder(bom, { fatal: true }).decode(bytes);
      return { ok: true, decoded: { text: normaliseNewlines(text), encoding: bom } };
    } catch {
      return {
        ok: false,
        binary: false,
        reason: `starts with a ${bom} byte-order mark but is not valid ${bom}`,
      };
    }
  }

  const nulCount = countByte(bytes, 0);
  if (nulCount > 0) {
    const hint = looksLikeUtf16WithoutBom(bytes)
      ? ' (if it is UTF-16 text, save it with a byte-order mark)'
      : '';
    return {
      ok: false,
      binary: true,
      reason: `looks binary, not text: it contains ${nulCount} NUL bytes${hint}`,
    };
  }

  const text = new TextDecoder('utf-8').decode(bytes);
  const invalid = countInvalidUtf8(bytes, text);
  const controls = countControlChars(text);
  if (controls > Math.max(8, text.length * MAX_CONTROL_CHAR_RATIO)) {
    return {
      ok: false,
      binary: true,
      reason: `looks binary, not text: it has ${controls} control characters`,
    };
  }
  if (invalid > Math.max(1, bytes.length / BYTES_PER_TOLERATED_INVALID_SEQUENCE)) {
    return {
      ok: false,
      binary: false,
      reason: `is not valid UTF-8 text (${invalid} invalid byte sequences); save it as UTF-8`,
    };
  }
  return { ok: true, decoded: { text: normaliseNewlines(text), encoding: 'utf-8' } };
}

/** Like `checkText`, but throws the DocumentError for `document` when the bytes are not text. */
export function decodeText(bytes: Uint8Array, document: string): DecodedText {
  const check = checkText(bytes);
  if (!check.ok) throw new DocumentError(document, 'unsupported_type', check.reason);
  return check.decoded;
}

export function normaliseNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

function detectBom(bytes: Uint8Array): TextEncodingName | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return null;
}

function countByte(bytes: Uint8Array, value: number): number {
  let count = 0;
  for (let index = bytes.indexOf(value); index !== -1; index = bytes.indexOf(value, index + 1)) count++;
  return count;
}

/** UTF-16 text of a Latin script has a NUL in every other byte. */
function looksLikeUtf16WithoutBom(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 4_096);
  let evenNuls = 0;
  let oddNuls = 0;
  for (let index = 0; index < sample.length; index++) {
    if (sample[index] !== 0) continue;
    if (index % 2 === 0) evenNuls++;
    else oddNuls++;
  }
  const half = sample.length / 2;
  return Math.max(evenNuls, oddNuls) > half * 0.6 && Math.min(evenNuls, oddNuls) < half * 0.05;
}

/** U+FFFD produced by the decoder, minus those genuinely written in the file as EF BF BD. */
function countInvalidUtf8(bytes: Uint8Array, decoded: string): number {
  let replacements = 0;
  for (let index = decoded.indexOf('\ufffd'); index !== -1; index = decoded.indexOf('\ufffd', index + 1)) {
    replacements++;
  }
  if (replacements === 0) return 0;
  let genuine = 0;
  for (let index = bytes.indexOf(0xef); index !== -1; index = bytes.indexOf(0xef, index + 1)) {
    if (bytes[index + 1] === 0xbf && bytes[index + 2] === 0xbd) genuine++;
  }
  return Math.max(0, replacements - genuine);
}

function countControlChars(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: counting control characters is the point
  return text.match(/[\u0001-\u0008\u000e-\u001a\u001c-\u001f\u007f]/g)?.length ?? 0;
}
