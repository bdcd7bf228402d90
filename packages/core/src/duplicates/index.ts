/**
 * Identical content under several document ids of one tenant (the same PDF ingested twice, a
 * handbook copied into two folders). At ingest it is found and reported, so that an operator can
 * delete the copy; at retrieval the copies' passages are collapsed to one, so that they do not
 * crowd the few passages an answer is built from.
 */
import { createHash } from 'node:crypto';
import { isWhitespace } from '../chunker/text.js';
import type { ChunkRecord, VectorStore } from '../vector-store/types.js';

/**
 * What makes two passages "the same": their text, NFKC-normalised, with runs of white space made
 * one space and the ends trimmed (extraction of one file can differ in line breaks only).
 */
export function contentKey(text: string): string {
  return createHash('sha256').update(normalisedContent(text), 'utf8').digest('hex').slice(0, 32);
}

/**
 * Runs of white space that folding to one space changes: two or more characters, or one that is
 * not a plain space. Leaving single spaces unmatched gives `replace(/\s+/g, ' ')`'s result with a
 * fraction of its replacements (prose is mostly single spaces).
 */
const FOLDED_WHITE_SPACE = /\s{2,}|[^\S ]/g;

/** The text two passages must share to be the same content (what {@link contentKey} hashes). */
function normalisedContent(text: string): string {
  return text.normalize('NFKC').replace(FOLDED_WHITE_SPACE, ' ').trim();
}

/** A chunk as the ingest pipeline has it before embedding. */
export interface ChunkText {
  index: number;
  text: string;
}

export interface FindDuplicateDocumentsOptions {
  store: VectorStore;
  tenant: string;
  /** The document being ingested; its own stored versions are not duplicates. */
  documentId: string;
  /** Its chunks, in order. */
  chunks: readonly ChunkText[];
  /**
   * Chunks compared (the first, the last and evenly spaced ones between).
   * @defaultValue 3
   */
  samples?: number;
  /**
   * Lexical hits looked at per sampled chunk.
   * @defaultValue 10
   */
  hitsPerSample?: number;
  signal?: AbortSignal;
}

/**
 * Other documents of the tenant whose stored content is the same as `chunks`: as many chunks, and
 * at every sampled position a chunk of the same text. Each sample costs one lexical search with
 * the chunk's own text, where an identical chunk ranks first; a document whose copies are buried
 * under more than `hitsPerSample` equally good matches can be missed (never a false report: texts
 * are compared exactly). Sorted by document id.
 */
export async function findDuplicateDocuments(options: FindDuplicateDocumentsOptions): Promise<string[]> {
  const { store, tenant, documentId, chunks, signal } = options;
  const samples = sampleChunks(chunks, options.samples ?? 3);
  let common: Set<string> | undefined;
  for (const chunk of samples) {
    const key = contentKey(chunk.text);
    const hits = await store.searchLexical(tenant, chunk.text, {
      limit: options.hitsPerSample ?? 10,
      ...(signal ? { signal } : {}),
    });
    const same = new Set(
      hits
        .map((hit) => hit.record)
        .filter(
          (record) =>
            record.documentId !== documentId &&
            record.chunkIndex === chunk.index &&
            record.chunkCount === chunks.length &&
            contentKey(record.text) === key,
        )
        .map((record) => record.documentId),
    );
    const before: Set<string> = common ?? same;
    common = new Set([...before].filter((id) => same.has(id)));
    if (common.size === 0) return [];
  }
  return common === undefined ? [] : [...common].sort();
}

/** Up to `count` chunks spread over the document, first and last included, each once. */
export function sampleChunks<T extends ChunkText>(chunks: readonly T[], count: number): T[] {
  if (chunks.length === 0 || count <= 0) return [];
  if (count === 1) return [chunks[0]!];
  const picked = new Set<number>();
  for (let i = 0; i < count; i++) picked.add(Math.round((i * (chunks.length - 1)) / (count - 1)));
  return [...picked].sort((a, b) => a - b).map((i) => chunks[i]!);
}

/**
 * Keeps the first (best ranked) of passages with the same content and drops the others, keeping
 * the order. Returns the kept ones and how many were dropped.
 */
export function collapseDuplicatePassages<T extends { record: Pick<ChunkRecord, 'text'> }>(
  ranked: readonly T[],
): { kept: T[]; collapsed: number } {
  // Passages are told apart by a fingerprint first, one pass over the start of each text; only
  // those whose fingerprints meet (copies, passages that start alike, rare collisions) are
  // normalised, the first of them once another comes, and looked up among each other's texts.
  const byPrint = new Map<number, { first: string; seen?: Set<string> }>();
  const kept: T[] = [];
  for (const item of ranked) {
    const text = item.record.text;
    const print = contentFingerprint(text);
    const same = byPrint.get(print);
    if (same === undefined) {
      byPrint.set(print, { first: text });
      kept.push(item);
      continue;
    }
    same.seen ??= new Set([normalisedContent(same.first)]);
    const normalised = normalisedContent(text);
    if (same.seen.has(normalised)) continue;
    same.seen.add(normalised);
    kept.push(item);
  }
  return { kept, collapsed: ranked.length - kept.length };
}

/** Characters (outside white space) a fingerprint is made of: where passages differ, they mostly do early. */
const FINGERPRINT_CHARS = 128;
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * Characters of a text's start its fingerprint is first made from: enough for
 * {@link FINGERPRINT_CHARS} characters outside white space in all but sparse text.
 */
const FINGERPRINT_START = 384;

/**
 * A 32-bit FNV-1a hash of the first {@link FINGERPRINT_CHARS} characters of a text that are not
 * white space, NFKC-normalised when the text is not ASCII (ASCII is its own NFKC form): two texts
 * of the same {@link normalisedContent} have the same characters outside white space, so the same
 * fingerprint. It costs a fraction of normalising (white space skipped, not folded into a copy;
 * NFKC, the cheaper part, only for text that is not ASCII), and only the text's start is read: cut
 * before an ASCII character, whose NFKC form is the start of the whole text's (nothing before such
 * a character composes with it or with what follows it), unless the start is too sparse.
 */
function contentFingerprint(text: string): number {
  let end = Math.min(text.length, FINGERPRINT_START);
  while (end < text.length && text.charCodeAt(end) >= 0x80) end++;
  if (end < text.length) {
    const start = fingerprintOf(text.slice(0, end));
    if (start.taken >= FINGERPRINT_CHARS) return start.hash;
  }
  return fingerprintOf(text).hash;
}

function fingerprintOf(text: string): { hash: number; taken: number } {
  const form = NON_ASCII.test(text) ? text.normalize('NFKC') : text;
  let hash = 0x811c9dc5;
  let taken = 0;
  for (let i = 0; i < form.length && taken < FINGERPRINT_CHARS; i++) {
    const code = form.charCodeAt(i);
    if (isWhitespace(code)) continue;
    hash = Math.imul(hash ^ code, 0x01000193);
    taken++;
  }
  return { hash: hash >>> 0, taken };
}
