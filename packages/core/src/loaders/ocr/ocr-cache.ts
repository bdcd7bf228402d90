/**
 * A cache of OCR results keyed by a page's image and the OCR recipe, so that reading a document
 * again (new chunking, a retried job, the same page in another file) does not OCR its pages
 * again. Kept in a small SQLite file under the data directory.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { OcrRecipe } from './settings.js';

export interface CachedOcrPage {
  text: string;
  confidence: number;
  rotation: number;
}

export interface OcrResultCache {
  get(key: string): CachedOcrPage | undefined;
  set(key: string, page: CachedOcrPage): void;
  close(): void;
}

/** The cache key of one page: the hash of its image bytes and frame, and the recipe. */
export function ocrCacheKey(image: Uint8Array, frame: number, recipe: OcrRecipe): string {
  return createHash('sha256')
    .update(JSON.stringify({ recipe, frame }))
    .update('\0')
    .update(image)
    .digest('hex');
}

/**
 * Opens (or creates) the cache at `path` (`':memory:'` for one in memory). A cache that cannot be
 * read or written never fails an ingestion: the page is read again.
 */
export function openOcrCache(path: string): OcrResultCache {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 2000');
  db.exec(`CREATE TABLE IF NOT EXISTS ocr_pages (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    confidence REAL NOT NULL,
    rotation INTEGER NOT NULL,
    stored_at INTEGER NOT NULL
  )`);
  const select = db.prepare<[string], CachedOcrPage>(
    'SELECT text, confidence, rotation FROM ocr_pages WHERE key = ?',
  );
  const upsert = db.prepare(
    'INSERT OR REPLACE INTO ocr_pages (key, text, confidence, rotation, stored_at) VALUES (?, ?, ?, ?, ?)',
  );
  return {
    get(key) {
      try {
        return select.get(key);
      } catch {
        return undefined;
      }
    },
    set(key, page) {
      try {
        upsert.run(key, page.text, page.confidence, page.rotation, Date.now());
      } catch {
        // A full disk or a locked file: the page is simply read again next time.
      }
    },
    close() {
      db.close();
    },
  };
}
