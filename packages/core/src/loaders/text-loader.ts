import type { ExtractedDocument } from './extracted.js';
import { SectionBuilder, tidyText } from './section-builder.js';

const GUTENBERG_START = /^\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK\b[^\n]*$/im;
const GUTENBERG_END = /^\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK\b[^\n]*$/im;

/**
 * Plain text: one section, paragraphs kept as they are. Form feeds mark pages (as in text printed
 * from other programs): then there is one section per non-empty page, with its page number.
 * Project Gutenberg books keep only the book between their START and END markers (the licence
 * around it would otherwise be indexed with every book), and their `Title:` line is the title.
 */
export function extractPlainText(source: string): ExtractedDocument {
  const { text, title } = stripGutenbergFrame(source);
  const builder = new SectionBuilder();
  if (!text.includes('\f')) {
    builder.add(tidyText(text), null, []);
    return { ...builder.build(), pageCount: null, title };
  }
  const pages = text.split('\f');
  // A trailing form feed ends the last page rather than starting an empty one.
  if (pages.length > 1 && pages.at(-1)?.trim() === '') pages.pop();
  pages.forEach((page, index) => {
    builder.add(tidyText(page), index + 1, []);
  });
  return { ...builder.build(), pageCount: pages.length, title };
}

function stripGutenbergFrame(source: string): { text: string; title: string | null } {
  const start = GUTENBERG_START.exec(source);
  if (start === null) return { text: source, title: null };
  const bodyStart = start.index + start[0].length;
  const end = GUTENBERG_END.exec(source.slice(bodyStart));
  const body = end === null ? source.slice(bodyStart) : source.slice(bodyStart, bodyStart + end.index);
  const title = /^Title:[ \t]*(.+?)[ \t]*$/m.exec(source.slice(0, start.index))?.[1] ?? null;
  return { text: body, title };
}
