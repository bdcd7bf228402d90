/** The real documents the ingestion and PDF benchmarks read, chosen from the corpus at run time. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface CorpusFile {
  /** Path relative to the corpus root, e.g. `pdf/pdfparse__bitcoin.pdf`. */
  name: string;
  path: string;
  bytes: number;
  kind: 'text' | 'markdown' | 'pdf';
}

/**
 * PDFs without a text layer: Quire refuses them by design (`needs_ocr`, "run OCR first"), so neither
 * pipeline is given them.
 */
const IMAGE_ONLY = new Set([
  'ocrmypdf__scanned_6pages.pdf',
  'ocrmypdf__scanned_book_page.pdf',
  'pdfparse__outline_10pages.pdf',
]);

/** The two large CJK novels (about 640k of the server's tokens together); left out of the small set. */
const LARGE = new Set(['zh_hongloumeng.txt', 'aozora_ja_bocchan.txt']);

export type CorpusSet = 'small' | 'full';

/**
 * Text, Markdown and text-layer PDF files of the corpus. `small` leaves out the two large CJK novels,
 * which alone hold more than half of the full set's tokens.
 */
export function ingestionFiles(root: string, set: CorpusSet): CorpusFile[] {
  const files: CorpusFile[] = [];
  for (const [dir, kind] of [
    ['text', 'text'],
    ['md', 'markdown'],
    ['pdf', 'pdf'],
  ] as const) {
    for (const entry of readdirSync(join(root, dir)).sort()) {
      if (IMAGE_ONLY.has(entry) || (set === 'small' && LARGE.has(entry))) continue;
      const path = join(root, dir, entry);
      files.push({ name: `${dir}/${entry}`, path, bytes: statSync(path).size, kind });
    }
  }
  return files;
}

/** Every PDF of the corpus with a text layer. */
export function pdfFiles(root: string): CorpusFile[] {
  return ingestionFiles(root, 'full').filter((f) => f.kind === 'pdf');
}
