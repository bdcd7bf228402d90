/**
 * Fixtures for the OCR tests and the OCR benchmark, made from known text: pages rendered by libvips
 * (sharp, SVG text with the system's DejaVu fonts), image-only PDFs and mixed PDFs (pdf-lib),
 * multi-page TIFFs, and an image bomb whose header claims more pixels than any limit.
 */
import { crc32 } from 'node:zlib';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';

/** A4 at 300 dpi. */
export const PAGE_WIDTH = 2480;
export const PAGE_HEIGHT = 3508;

export const ENGLISH_PAGE = [
  'Lease agreement between the owner and the tenant.',
  'The monthly rent is payable on the first day of each month.',
  'The deposit of three thousand dollars is returned within thirty days.',
  'Either party may end this agreement with two months notice in writing.',
  'The tenant keeps the garden and the windows clean and in good repair.',
  'Pets are allowed only with the written consent of the owner.',
];

export const FRENCH_PAGE = [
  'Le locataire paie le loyer avant le cinq de chaque mois.',
  'Les réparations urgentes sont à la charge du propriétaire.',
  'The English summary follows the French clauses of this contract.',
  'Un préavis de trois mois est exigé pour toute résiliation anticipée.',
];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A white A4 page at 300 dpi with `lines` in black serif text, as a grey PNG. */
export async function renderPage(
  lines: readonly string[],
  options: { fontSize?: number } = {},
): Promise<Buffer> {
  const size = options.fontSize ?? 48;
  const text = lines
    .map(
      (line, i) =>
        `<text x="200" y="${300 + i * size * 1.8}" font-family="DejaVu Serif" font-size="${size}">${escapeXml(line)}</text>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${PAGE_WIDTH}" height="${PAGE_HEIGHT}"><rect width="100%" height="100%" fill="white"/>${text}</svg>`;
  return sharp(Buffer.from(svg)).greyscale().png().toBuffer();
}

/** A PDF whose pages are the given images (PNG or JPEG) only: no text layer. `text` pages get real text. */
export async function makePdf(
  pages: ReadonlyArray<{ image: Buffer } | { text: readonly string[] }>,
): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.TimesRoman);
  for (const page of pages) {
    const p = pdf.addPage([595.28, 841.89]);
    if ('image' in page) {
      const isPng = page.image[0] === 0x89;
      const image = isPng ? await pdf.embedPng(page.image) : await pdf.embedJpg(page.image);
      p.drawImage(image, { x: 0, y: 0, width: p.getWidth(), height: p.getHeight() });
    } else {
      page.text.forEach((line, i) => {
        p.drawText(line, { x: 50, y: 780 - i * 24, size: 14, font });
      });
    }
  }
  return pdf.save();
}

/** A multi-page TIFF of the given pages (same size). */
export async function makeTiff(pages: readonly Buffer[]): Promise<Buffer> {
  return sharp(pages as Buffer[], { join: { animated: true } })
    .tiff({ compression: 'lzw' })
    .toBuffer();
}

/** A PNG of 1×1 pixel whose header says `width × height`: decoding it would take that many pixels. */
export async function makeImageBomb(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(
    await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } })
      .png()
      .toBuffer(),
  );
  // IHDR: length (4) type (4) width (4) height (4) ... crc over type+data, right after the 8-byte signature.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** Words of a text, lower-cased, letters and digits only. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * Share of the expected words found in the text read (bag of words: each expected word counts as
 * many times as it occurs, matched at most as often as it was read).
 */
export function wordRecall(expected: string, read: string): number {
  const want = words(expected);
  if (want.length === 0) return 1;
  const have = new Map<string, number>();
  for (const word of words(read)) have.set(word, (have.get(word) ?? 0) + 1);
  let found = 0;
  for (const word of want) {
    const left = have.get(word) ?? 0;
    if (left > 0) {
      found++;
      have.set(word, left - 1);
    }
  }
  return found / want.length;
}
