export interface Chunk {
  /** Position of the chunk in its document, 0..n-1. */
  index: number;
  /** Exactly `documentText.slice(start, end)`: no whitespace at either edge. */
  text: string;
  /** Tokens in `text`, counted with the chunker's encoding (see `CHUNKER_ENCODING`). */
  tokenCount: number;
  /** Character offsets of `text` in the document's extracted text: [start, end). */
  start: number;
  end: number;
  /** 1-based page range; null for formats without pages. */
  pageStart: number | null;
  pageEnd: number | null;
  /** Headings above the text, outermost first; the common part when the chunk holds several sections. */
  headingPath: string[];
}

export interface ChunkerOptions {
  /**
   * Most tokens in one chunk, counted exactly with the chunker's encoding. At least 32.
   * @defaultValue 400 (tokens)
   */
  chunkSize: number;
  /**
   * Most tokens repeated from the end of the previous chunk of the same section, taken from a
   * sentence, line or word start. At least 0, below `chunkSize / 2`.
   * @defaultValue 50 (tokens)
   */
  chunkOverlap: number;
}
