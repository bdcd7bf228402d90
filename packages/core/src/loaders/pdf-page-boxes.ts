/**
 * Whether a PDF's pages may be cropped, read from the file's bytes without parsing it: the poppler
 * engine then asks `pdfinfo` for every page's boxes, and otherwise reads the text in one
 * `pdftotext` run. Page dictionaries are plain text in a PDF with a classic cross-reference table,
 * and the boxes are arrays of numbers there even in an encrypted file.
 *
 * The answer errs one way only: `false` means the file has a classic cross-reference table and no
 * cross-reference stream (so no object streams, where page dictionaries would be compressed), no
 * box or object-stream name spelled with `#` escapes, and every `/CropBox` in it (if any) holds every `/MediaBox`, so no
 * page shows less than its media box. Anything else (a box given by reference, a crop box smaller
 * than a media box) answers `true`, and `pdfinfo` decides.
 */

/** Bytes after a box key that hold its array of four numbers (with generous white space). */
const ARRAY_WINDOW = 160;
const CLOSE_BRACKET = 0x5d;
const OBJECT_STREAM = Buffer.from('/ObjStm', 'latin1');
const XREF_STREAM_IN_TRAILER = Buffer.from('/XRefStm', 'latin1');
const START_XREF = Buffer.from('startxref', 'latin1');
/** A name of letters with at least one `#xx` escape (`/Crop#42ox` is `/CropBox`). */
const ESCAPED_NAME = /\/[A-Za-z]*#[0-9A-Fa-f]{2}(?:[A-Za-z]|#[0-9A-Fa-f]{2})*/g;
/** Names the scan reads: spelled with escapes, they would pass unseen. */
const SCANNED_NAMES = new Set(['CropBox', 'MediaBox', 'ObjStm']);

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
/** Bytes read after `startxref` for the offset, and at the offset for the `xref` keyword. */
const OFFSET_WINDOW = 32;
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
 * Whether the file's last cross-reference section, the one `startxref` points to, is a classic
 * table (`xref`) and none refers to a cross-reference stream: object streams, which may hold page
 * dictionaries, can only be reached through such a stream.
 */
function classicCrossReference(bytes: Buffer): boolean {
  if (bytes.indexOf(XREF_STREAM_IN_TRAILER) !== -1) return false;
  const at = bytes.lastIndexOf(START_XREF);
  if (at === -1) return false;
  const offset = /^\s*(\d+)/.exec(
    bytes.toString('latin1', at + START_XREF.length, at + START_XREF.length + OFFSET_WINDOW),
  )?.[1];
  if (offset === undefined || Number(offset) >= bytes.length) return false;
  return /^\s*xref/.test(bytes.toString('latin1', Number(offset), Number(offset) + OFFSET_WINDOW));
}

/** False when no page of the PDF can show less than its media box; true when it may. */
export function mayCropPages(data: Uint8Array): boolean {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.indexOf(OBJECT_STREAM) !== -1 || !classicCrossReference(bytes)) return true;
  if (escapesScannedName(bytes)) return true;
  const crops = boxesUnder(bytes, '/CropBox', 4);
  if (crops === null) return true;
  if (crops.length === 0) return false;
  const medias = boxesUnder(bytes, '/MediaBox', 64);
  if (medias === null || medias.length === 0) return true;
  return !crops.every((crop) => medias.every((media) => holds(crop, media)));
}
