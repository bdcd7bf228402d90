/**
 * Whether a PDF's pages may be cropped, read from the file's bytes without parsing it: the poppler
 * engine then asks `pdfinfo` for every page's boxes, and otherwise reads the text in one
 * `pdftotext` run. Page dictionaries are plain text in the file or compressed in object streams
 * (PDF 1.5+, what most producers write today); the boxes are arrays of numbers there even in an
 * encrypted file, whose object streams are unreadable without the key.
 *
 * The answer errs one way only: `false` means every box of the file could be read, and every
 * `/CropBox` in it (if any) holds every `/MediaBox`, so no page shows less than its media box. The
 * boxes are read in the file's plain text and in each of its object streams, inflated (a stream with
 * a `/First` key, as an object stream needs, typed or not), one stream at a time. Anything else
 * answers `true`, and `pdfinfo` decides: a box given by reference, a crop box smaller than a media
 * box, an object stream that is encrypted, compressed with another filter or a predictor, named
 * with Poppler's short keys (`/F`, `/DP`) or twice, damaged, past `MAX_OBJECT_STREAMS` or
 * inflating past `MAX_INFLATED_BYTES` in all; an object stream's dictionary holding a string or a
 * comment, where a keyword could hide, a keyword that a reader would not see where the byte search
 * does, and a scanned name spelled with `#` escapes. The scan searches each keyword once through
 * the file, however many `/First` keys it holds.
 */
import { inflateSync } from 'node:zlib';

/** Bytes after a box key that hold its array of four numbers (with generous white space). */
const ARRAY_WINDOW = 160;
const CLOSE_BRACKET = 0x5d;
const OBJECT_STREAM_TYPE = Buffer.from('/ObjStm', 'latin1');
const FIRST_KEY = Buffer.from('/First', 'latin1');
const STREAM = Buffer.from('stream', 'latin1');
const ENDSTREAM = Buffer.from('endstream', 'latin1');
const ENDOBJ = Buffer.from('endobj', 'latin1');
const OBJ = Buffer.from('obj', 'latin1');
const ENCRYPT_KEY = Buffer.from('/Encrypt', 'latin1');
/** Object streams' contents inflated at most, in all: past it, `pdfinfo` decides. */
export const MAX_INFLATED_BYTES = 32 << 20;
/** Object streams read at most: past it, `pdfinfo` decides. */
export const MAX_OBJECT_STREAMS = 10_000;
/** Bytes an object stream's dictionary may take on either side of its `/First` key. */
const MAX_DICT_BYTES = 4096;
/** A name of letters with at least one `#xx` escape (`/Crop#42ox` is `/CropBox`). */
const ESCAPED_NAME = /\/[A-Za-z]*#[0-9A-Fa-f]{2}(?:[A-Za-z]|#[0-9A-Fa-f]{2})*/g;
/** Names the scan reads: spelled with escapes, they would pass unseen. */
const SCANNED_NAMES = new Set(['CropBox', 'MediaBox', 'ObjStm', 'First', 'Filter', 'DecodeParms', 'Encrypt']);

/** Whether the file spells a name the scan reads with `#` escapes. */
function escapesScannedName(bytes: Buffer): boolean {
  if (bytes.indexOf('#') === -1) return false;
  for (const match of bytes.toString('latin1').matchAll(ESCAPED_NAME)) {
    const name = match[0]
      .slice(1)
      .replace(/#([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    if (SCANNED_NAMES.has(name)) return true;
  }
  return false;
}
const NUMBER = String.raw`[+-]?(?:\d+\.?\d*|\.\d+)`;
const BOX_ARRAY = new RegExp(
  String.raw`^[\0\t\n\f\r ]*\[[\0\t\n\f\r ]*(${NUMBER})[\0\t\n\f\r ]+(${NUMBER})[\0\t\n\f\r ]+(${NUMBER})[\0\t\n\f\r ]+(${NUMBER})[\0\t\n\f\r ]*\]`,
);
/** Media and crop boxes equal within this many points are the same box (as `pdfinfo` prints them). */
const TOLERANCE = 1;

type Box = [number, number, number, number];

/** A character that ends a PDF name: white space or a delimiter. */
function endsName(byte: number | undefined): boolean {
  if (byte === undefined) return true;
  // \0 \t \n \f \r space ( ) < > [ ] { } / %
  return (
    byte === 0 ||
    byte === 9 ||
    byte === 10 ||
    byte === 12 ||
    byte === 13 ||
    byte === 32 ||
    byte === 0x28 ||
    byte === 0x29 ||
    byte === 0x3c ||
    byte === 0x3e ||
    byte === 0x5b ||
    byte === 0x5d ||
    byte === 0x7b ||
    byte === 0x7d ||
    byte === 0x2f ||
    byte === 0x25
  );
}

/**
 * Every distinct box given under `key` (corners normalised), or null when one of them is not a
 * literal array of four numbers (a reference, damage) or there are more than `maxDistinct`.
 */
function boxesUnder(bytes: Buffer, key: string, maxDistinct: number): Box[] | null {
  const boxes: Box[] = [];
  const needle = Buffer.from(key, 'latin1');
  // Most files repeat one box on every page: its bytes, once read, are not parsed again.
  let lastArray: Buffer | undefined;
  for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + needle.length)) {
    const after = at + needle.length;
    if (!endsName(bytes[after])) continue;
    const close = bytes.indexOf(CLOSE_BRACKET, after);
    if (close === -1 || close - after >= ARRAY_WINDOW) return null;
    const array = bytes.subarray(after, close + 1);
    if (lastArray?.equals(array)) continue;
    lastArray = array;
    const match = BOX_ARRAY.exec(array.toString('latin1'));
    if (match === null) return null;
    const [x0, y0, x1, y1] = match.slice(1, 5).map(Number) as Box;
    const box: Box = [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)];
    if (boxes.some((seen) => seen.every((value, i) => value === box[i]))) continue;
    if (boxes.length === maxDistinct) return null;
    boxes.push(box);
  }
  return boxes;
}

/** The distinct boxes under one key across several byte ranges, read one range at a time. */
class BoxSet {
  readonly boxes: Box[] = [];
  /** A box could not be read, or there were more than `maxDistinct`. */
  unreadable = false;

  constructor(
    private readonly key: string,
    private readonly maxDistinct: number,
  ) {}

  read(text: Buffer): void {
    if (this.unreadable) return;
    const boxes = boxesUnder(text, this.key, this.maxDistinct);
    if (boxes === null) {
      this.unreadable = true;
      return;
    }
    for (const box of boxes) {
      if (this.boxes.some((seen) => seen.every((value, i) => value === box[i]))) continue;
      if (this.boxes.length === this.maxDistinct) {
        this.unreadable = true;
        return;
      }
      this.boxes.push(box);
    }
  }
}

/** `outer` holds `inner`, within the tolerance. */
function holds(outer: Box, inner: Box): boolean {
  return (
    outer[0] <= inner[0] + TOLERANCE &&
    outer[1] <= inner[1] + TOLERANCE &&
    outer[2] >= inner[2] - TOLERANCE &&
    outer[3] >= inner[3] - TOLERANCE
  );
}

/**
 * Whether `bytes[at]` starts `keyword` as a keyword: white space or a delimiter on both sides, but
 * not a name's slash before it (`/endobj` is a name).
 */
function keywordAt(bytes: Buffer, at: number, keyword: Buffer): boolean {
  const before = at === 0 ? undefined : bytes[at - 1];
  return before !== 0x2f && endsName(before) && endsName(bytes[at + keyword.length]);
}

type Keyword = 'stream' | 'endstream' | 'endobj';

/**
 * The next hit of one needle at or after a position that only moves forward: the file is searched
 * past each hit once, however many positions are asked about (a hostile file may hold millions of
 * `/First` keys). -1 when none is left.
 */
class ForwardSearch {
  private hit = -2;

  constructor(
    private readonly bytes: Buffer,
    private readonly needle: Buffer | number,
  ) {}

  from(at: number): number {
    if (this.hit !== -1 && this.hit < at) this.hit = this.bytes.indexOf(this.needle, at);
    return this.hit;
  }
}

/** Finds the next `stream`, `endstream` or `endobj` keyword from a position that only moves forward. */
class KeywordScanner {
  private readonly stream: ForwardSearch;
  private readonly endobj: ForwardSearch;

  constructor(private readonly bytes: Buffer) {
    this.stream = new ForwardSearch(bytes, STREAM);
    this.endobj = new ForwardSearch(bytes, ENDOBJ);
  }

  next(from: number): { at: number; keyword: Keyword } | null {
    let at = from;
    for (;;) {
      const stream = this.stream.from(at);
      const endobj = this.endobj.from(at);
      if (stream === -1 && endobj === -1) return null;
      if (endobj !== -1 && (stream === -1 || endobj < stream)) {
        if (keywordAt(this.bytes, endobj, ENDOBJ)) return { at: endobj, keyword: 'endobj' };
        at = endobj + 1;
        continue;
      }
      if (stream - 3 >= at && this.bytes.toString('latin1', stream - 3, stream) === 'end') {
        if (keywordAt(this.bytes, stream - 3, ENDSTREAM)) return { at: stream - 3, keyword: 'endstream' };
      } else if (keywordAt(this.bytes, stream, STREAM)) return { at: stream, keyword: 'stream' };
      at = stream + 1;
    }
  }
}

/** `/Filter` of a stream dictionary: none, or FlateDecode alone, decodes here. */
const FILTER =
  /\/Filter[\0\t\n\f\r ]*(?:\/([A-Za-z0-9]+)|\[[\0\t\n\f\r ]*((?:\/[A-Za-z0-9]+[\0\t\n\f\r ]*)*)\])?/;

/** A key Poppler also reads a stream's filter from (`/F`, `/DP`, short for `/Filter`, `/DecodeParms`). */
const SHORT_FILTER_KEY = /\/(?:F|DP)(?![A-Za-z0-9#])/;

/**
 * Whether a stream dictionary's `/Filter` is FlateDecode alone (true) or none (false); null for
 * anything else: another filter, several, a reference, a predictor (`/DecodeParms`), a key given
 * twice or in its short form, and a dictionary holding a string or a comment, which could hide a
 * keyword from this scan.
 */
function flateOnly(dict: string): boolean | null {
  if (dict.includes('(') || dict.includes(')') || dict.includes('%')) return null;
  if (/\/DecodeParms(?![A-Za-z0-9])/.test(dict) || SHORT_FILTER_KEY.test(dict)) return null;
  if (dict.indexOf('/Filter') !== dict.lastIndexOf('/Filter')) return null;
  const filter = FILTER.exec(dict);
  if (filter === null) return false;
  const names =
    filter[1] !== undefined
      ? [filter[1]]
      : filter[2] === undefined
        ? undefined
        : filter[2]
            .split('/')
            .map((name) => name.trim())
            .filter((name) => name !== '');
  if (names === undefined || names.length > 1) return null;
  if (names.length === 0) return false;
  return names[0] === 'FlateDecode' ? true : null;
}

/**
 * The first keyword from `from` outside strings and comments, or null when a string does not end:
 * what a reader sees where the plain byte search may have met `endobj` inside `(…)` or after `%`.
 */
function keywordOutsideStrings(bytes: Buffer, from: number): { at: number; keyword: Keyword } | null {
  let depth = 0;
  for (let at = from; at < bytes.length; at++) {
    const byte = bytes[at]!;
    if (depth > 0) {
      if (byte === 0x5c) at++;
      else if (byte === 0x28) depth++;
      else if (byte === 0x29) depth--;
      continue;
    }
    if (byte === 0x28) depth = 1;
    else if (byte === 0x25) {
      while (at < bytes.length && bytes[at] !== 0x0a && bytes[at] !== 0x0d) at++;
    } else if (byte === 0x73 && startsWith(bytes, at, STREAM)) return { at, keyword: 'stream' };
    else if (byte === 0x65) {
      if (startsWith(bytes, at, ENDOBJ)) return { at, keyword: 'endobj' };
      if (startsWith(bytes, at, ENDSTREAM)) return { at, keyword: 'endstream' };
    }
  }
  return null;
}

/** Whether `keyword` stands at `at` as a keyword (see `keywordAt`). */
function startsWith(bytes: Buffer, at: number, keyword: Buffer): boolean {
  return bytes.subarray(at, at + keyword.length).equals(keyword) && keywordAt(bytes, at, keyword);
}

/** Whether `bytes[from, to)` holds a string or a comment, for `from`s that only move forward. */
class StringOrCommentScanner {
  private readonly open: ForwardSearch;
  private readonly percent: ForwardSearch;

  constructor(bytes: Buffer) {
    this.open = new ForwardSearch(bytes, 0x28);
    this.percent = new ForwardSearch(bytes, 0x25);
  }

  holds(from: number, to: number): boolean {
    const open = this.open.from(from);
    const percent = this.percent.from(from);
    return (open !== -1 && open < to) || (percent !== -1 && percent < to);
  }
}

/** Where the object holding `at` begins: its `obj` keyword, looked for in `MAX_DICT_BYTES` before. */
function objectStart(bytes: Buffer, at: number): number | null {
  const windowStart = Math.max(0, at - MAX_DICT_BYTES);
  const window = bytes.subarray(windowStart, at);
  // `endobj` is not `obj`: a keyword needs white space or a delimiter before it.
  for (let end = window.length; end >= 0; ) {
    const found = window.lastIndexOf(OBJ, end);
    if (found === -1) return null;
    if (keywordAt(bytes, windowStart + found, OBJ)) return windowStart + found;
    end = found - 1;
  }
  return null;
}

/**
 * Hands `visit` the contents of each of the file's object streams, inflated (see the module's
 * comment), and returns where their dictionaries lie; null when one of them cannot be read here
 * or `visit` answers false. One stream's contents are held at a time.
 */
function objectStreams(bytes: Buffer, visit: (content: Buffer) => boolean): Array<[number, number]> | null {
  const ranges: Array<[number, number]> = [];
  const keywords = new KeywordScanner(bytes);
  const strings = new StringOrCommentScanner(bytes);
  let inflated = 0;
  for (let at = bytes.indexOf(FIRST_KEY); at !== -1; at = bytes.indexOf(FIRST_KEY, at + FIRST_KEY.length)) {
    if (!endsName(bytes[at + FIRST_KEY.length])) continue;
    // A stream's dictionary when the next keyword opens its data; an outline item's `/First`, or
    // bytes inside a stream's data, meet `endobj` or `endstream` first, as does every `/First`
    // before that keyword.
    const next = keywords.next(at);
    if (next === null) break;
    if (next.keyword !== 'stream') {
      // An outline item's title may hold `endobj`: a reader's view decides, once for the stretch.
      if (strings.holds(at, next.at)) {
        const seen = keywordOutsideStrings(bytes, at);
        if (seen === null || seen.at !== next.at) return null;
      }
      at = next.at;
      continue;
    }
    if (ranges.length === MAX_OBJECT_STREAMS) return null;
    // The dictionary, from its object's `obj` keyword (an object stream's is a few dozen bytes).
    const dictStart = objectStart(bytes, at);
    if (dictStart === null || next.at - dictStart > 2 * MAX_DICT_BYTES) return null;
    const flate = flateOnly(bytes.toString('latin1', dictStart, next.at));
    if (flate === null) return null;
    let dataStart = next.at + STREAM.length;
    if (bytes[dataStart] === 0x0d) dataStart++;
    if (bytes[dataStart] !== 0x0a) return null;
    dataStart++;
    const end = keywords.next(dataStart);
    if (end === null || end.keyword !== 'endstream') return null;
    const data = bytes.subarray(dataStart, end.at);
    let content = data;
    if (flate) {
      try {
        content = inflateSync(data, { maxOutputLength: MAX_INFLATED_BYTES - inflated + 1 });
      } catch {
        return null;
      }
    }
    inflated += content.length;
    if (inflated > MAX_INFLATED_BYTES || !visit(content)) return null;
    ranges.push([dictStart, next.at]);
    at = end.at;
  }
  return ranges;
}

/** False when no page of the PDF can show less than its media box; true when it may. */
export function mayCropPages(data: Uint8Array): boolean {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (escapesScannedName(bytes)) return true;
  const crops = new BoxSet('/CropBox', 4);
  const medias = new BoxSet('/MediaBox', 64);
  const read = (text: Buffer) => {
    crops.read(text);
    medias.read(text);
  };
  read(bytes);
  // Encrypted object streams cannot be read without the key.
  const encrypted = bytes.indexOf(ENCRYPT_KEY) !== -1;
  const ranges = objectStreams(bytes, (content) => {
    if (encrypted || escapesScannedName(content)) return false;
    read(content);
    return true;
  });
  if (ranges === null) return true;
  // Every object stream must be one that was read (both lists run through the file in order).
  let range = 0;
  for (
    let at = bytes.indexOf(OBJECT_STREAM_TYPE);
    at !== -1;
    at = bytes.indexOf(OBJECT_STREAM_TYPE, at + 1)
  ) {
    if (!endsName(bytes[at + OBJECT_STREAM_TYPE.length])) continue;
    while (range < ranges.length && ranges[range]![1] <= at) range++;
    const read = ranges[range];
    if (read === undefined || at < read[0]) return true;
  }
  if (crops.unreadable) return true;
  if (crops.boxes.length === 0) return false;
  if (medias.unreadable || medias.boxes.length === 0) return true;
  return !crops.boxes.every((crop) => medias.boxes.every((media) => holds(crop, media)));
}
