import { expect } from 'vitest';
import type { Section } from '../../loaders/types.js';
import { countTokens } from '../tokens.js';
import type { Chunk, ChunkerOptions } from '../types.js';

/** Seeded PRNG (mulberry32): the same seed gives the same documents on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

export function int(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

const WORDS = [
  'river',
  'lighthouse',
  'keeper',
  'storm',
  'harbour',
  'lantern',
  'signal',
  'coast',
  'ship',
  'night',
  'morning',
  'wind',
  'rock',
  'island',
  'north',
  'captain',
  'letter',
  'window',
  'stair',
  'bell',
  'quietly',
  'across',
  'beneath',
  'remember',
  'carried',
  'between',
  'golden',
  'seventeen',
  'older',
];

/** A sentence of `words` plain English words, capitalised, ending in `.`, `!` or `?`. */
export function sentence(random: () => number, words = int(random, 5, 14)): string {
  const body = Array.from({ length: words }, () => pick(random, WORDS)).join(' ');
  return `${body[0]!.toUpperCase()}${body.slice(1)}${pick(random, ['.', '.', '.', '!', '?'])}`;
}

export function paragraph(random: () => number, sentences = int(random, 2, 6)): string {
  return Array.from({ length: sentences }, () => sentence(random)).join(' ');
}

export interface Part {
  text: string;
  page?: number | null;
  headingPath?: string[];
}

/** A document as a loader makes it: sections joined by a blank line, offsets exact. */
export function makeDoc(parts: readonly Part[], separator = '\n\n'): { text: string; sections: Section[] } {
  const sections: Section[] = [];
  let text = '';
  for (const part of parts) {
    if (sections.length > 0) text += separator;
    sections.push({
      text: part.text,
      page: part.page ?? null,
      headingPath: part.headingPath ?? [],
      start: text.length,
    });
    text += part.text;
  }
  return { text, sections };
}

/** The section holding a chunk's start. */
export function sectionOf(sections: readonly Section[], chunk: Chunk): Section {
  const found = sections.find((s) => chunk.start >= s.start && chunk.start < s.start + s.text.length);
  if (found === undefined) throw new Error(`chunk ${chunk.index} starts outside every section`);
  return found;
}

function isLoneSurrogateEdge(text: string): boolean {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  return (first >= 0xdc00 && first <= 0xdfff) || (last >= 0xd800 && last <= 0xdbff);
}

/**
 * Checks what must hold for every chunking: exact slices, trimmed, exact and bounded counts,
 * indexes, order, whole characters, no text of a section lost, overlaps bounded and only inside a
 * section, pages and headings taken from the sections.
 */
export function expectValidChunks(
  doc: { text: string; sections: readonly Section[] },
  chunks: readonly Chunk[],
  options: ChunkerOptions,
): void {
  const sections =
    doc.sections.length > 0 ? doc.sections : [{ text: doc.text, page: null, headingPath: [], start: 0 }];
  const covered = new Uint8Array(doc.text.length);
  chunks.forEach((chunk, i) => {
    expect(chunk.index).toBe(i);
    expect(doc.text.slice(chunk.start, chunk.end)).toBe(chunk.text);
    expect(chunk.text.length).toBeGreaterThan(0);
    expect(chunk.text.trim()).toBe(chunk.text);
    expect(isLoneSurrogateEdge(chunk.text)).toBe(false);
    expect(chunk.tokenCount).toBe(countTokens(chunk.text));
    expect(chunk.tokenCount).toBeLessThanOrEqual(options.chunkSize);
    covered.fill(1, chunk.start, chunk.end);

    // Every section the chunk touches shares its page (or lack of one) and heading path prefix.
    const touched = sections.filter((s) => s.start < chunk.end && s.start + s.text.length > chunk.start);
    expect(touched.length).toBeGreaterThan(0);
    const pages = new Set(touched.map((s) => s.page));
    expect(pages.size).toBe(1);
    expect(chunk.pageStart).toBe(touched[0]!.page);
    expect(chunk.pageEnd).toBe(touched[0]!.page);
    for (const s of touched)
      expect(s.headingPath.slice(0, chunk.headingPath.length)).toEqual(chunk.headingPath);
    if (touched.length === 1) expect(chunk.headingPath).toEqual(touched[0]!.headingPath);

    const previous = chunks[i - 1];
    if (previous === undefined) return;
    expect(chunk.start).toBeGreaterThan(previous.start);
    expect(chunk.end).toBeGreaterThan(previous.end);
    if (chunk.start < previous.end) {
      // An overlap: within one section, at most chunkOverlap tokens.
      expect(sectionOf(sections, chunk)).toBe(sectionOf(sections, previous));
      expect(countTokens(doc.text.slice(chunk.start, previous.end))).toBeLessThanOrEqual(
        options.chunkOverlap,
      );
    }
  });
  for (const section of sections) {
    for (let k = section.start; k < section.start + section.text.length; k++) {
      if (covered[k] === 0 && doc.text[k]!.trim() !== '') {
        throw new Error(`character ${k} (${JSON.stringify(doc.text[k])}) is in no chunk`);
      }
    }
  }
}

/** Tokens shared by two consecutive chunks; 0 when they do not overlap. */
export function overlapTokens(text: string, previous: Chunk, next: Chunk): number {
  return next.start < previous.end ? countTokens(text.slice(next.start, previous.end)) : 0;
}
