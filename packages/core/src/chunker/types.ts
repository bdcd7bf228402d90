export interface Chunk {
  index: number;
  text: string;
  tokenCount: number;
  /** Character offsets of `text` in the document's extracted text: [start, end). */
  start: number;
  end: number;
  /** 1-based page range; null for formats without pages. */
  pageStart: number | null;
  pageEnd: number | null;
  headingPath: string[];
}

export interface ChunkerOptions {
  /** Target maximum tokens per chunk. */
  chunkSize: number;
  /** Tokens repeated from the end of the previous chunk of the same section. */
  chunkOverlap: number;
}
