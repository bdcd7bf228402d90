/**
 * The lexical index of the SQLite store, one FTS5 table per tenant, so that BM25's statistics (the row
 * count N, the average row length and each term's document frequency) are the tenant's own: a tenant's
 * scores and ranking neither depend on nor reveal other tenants' documents.
 *
 * Tables of a collection `c`:
 * - `c__lexical`: one row per tenant that has (or had) chunks: its FTS5 table's name and a generation
 *   counter raised by every write to that table, which keys the per-connection cache of term statistics.
 * - `c__lexical_log`: the rows each of a tenant's last generations wrote or deleted, so that a
 *   connection's cached term rows follow a write (re-scored, counted in the changed rows) instead of
 *   being read again; a file without it (written before) makes caches start afresh after a write.
 * - `c__fts_<hash>`: contentless FTS5 table of one tenant (`hash`: 32 hex digits of the tenant's SHA-256),
 *   columns `terms` (`lexicalTokens(text)` joined by spaces) and `every` (one constant token in every row,
 *   so that a query can keep terms in its scoring without requiring them; weight 0 in bm25()).
 *
 * A tenant's table is created by its first write and stays (empty) when its last chunk is deleted.
 * Every new tenant adds a table to the schema, which SQLite re-reads on every connection after the
 * change: fine for thousands of tenants, not for millions (use Qdrant there, see QDRANT.md).
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { LruMap } from '../lru-map.js';
import { lexicalTokens } from './lexical.js';
import {
  bm25Part,
  bm25TermFrequency,
  countOccurrences,
  fitsUint32,
  impactBytes,
  packImpacts,
  packRowids,
  paletteImpacts,
  type TermImpacts,
} from './lexical-topk.js';

/** The token of the `every` column. Queries reach it only through the column filter `every :`. */
export const EVERY_TOKEN = 'x';

/** A chunk's `terms` column: its text's lexical tokens joined by spaces, as written and followed. */
export function termsColumn(text: string): string {
  return lexicalTokens(text).join(' ');
}

/** Terms per tenant whose row counts a connection caches, and tenants it keeps them for. */
const CACHED_TERMS_PER_TENANT = 8192;
const CACHED_TENANTS = 64;
/** Generations of a tenant's changes the log keeps; a cache older than that starts afresh. */
const LOGGED_GENERATIONS = 256;
/**
 * Changed rows a tenant's cache follows before it starts afresh (each term is counted in them): with
 * their terms kept, a row costs a followed term about a microsecond, and a term of few rows beside
 * many changes is read again anyway. 16,384: about 330 documents of 50 chunks between two searches.
 */
const FOLLOWED_ROWS = 16384;
/**
 * Rows a term's reading passes over (about a microsecond each) in the time a changed row's terms are
 * fetched and tokenized (about 60 µs for 250 words, once for every term that follows the row), and
 * in the time a term is counted in them.
 */
const FETCH_COST = 64;
const COUNT_COST = 2;
/** Tenants of fewer rows read a changed term again instead of following it (see `read`). */
const FOLLOW_MIN_ROWS = 1024;
/** Row lengths and term frequencies fit a palette key below 2^24 and 2^28. */
const LENGTH_KEY = 2 ** 24;

/** What a search knows about one query term in one tenant, valid for one generation. */
export interface TermStats {
  /** Rows of the tenant holding the term. */
  documents: number;
}

/** A term's rows and scores as one generation of the tenant's index gives them. */
export interface CachedTerm {
  impacts: TermImpacts;
  generation: number;
  /**
   * The term frequency and row length behind each palette entry, from which the scores of a later
   * generation are computed; undefined when they could not be told apart exactly (the term is then
   * read again after a write).
   */
  shapes: { tf: number[]; length: number[]; codeOf: Map<number, number> } | undefined;
}

/** What a connection has cached about one tenant: its terms follow the tenant's writes through the log. */
export interface TenantCache {
  generation: number;
  /** Row counts of terms, for this generation. */
  terms: Map<string, TermStats>;
  /** Each term's rows and what the term alone scores in each (its part of any query's bm25()). */
  impacts: Map<string, CachedTerm>;
  /** Bytes held in `impacts` (all terms together) and `rowTerms`. */
  bytes: number;
  /** Rows written or deleted at each generation since the cache started. */
  changes: Map<number, number[]>;
  changedRows: number;
  /** Tokens of each row in both columns (bm25()'s row length), read with the first term. */
  lengths: Map<number, number> | undefined;
  /** bm25()'s N and average row length for this generation; undefined until read. */
  totals: { rows: number; averageLength: number } | undefined;
  /**
   * Changed rows' `terms` (null: gone) as of this generation, fetched when a term first follows
   * them and kept, charged to `bytes`, until the row changes again or the cache starts afresh: at
   * most {@link FOLLOWED_ROWS} rows, and only within the cache's budget.
   */
  rowTerms: Map<number, string | null>;
}

export interface TenantIndex {
  tenant: string;
  /** Quoted table name, ready for SQL. */
  table: string;
  /** Bare table name, as FTS5's auxiliary functions take it. */
  name: string;
  insert: Database.Statement<[number, string, string]>;
  delete: Database.Statement<[number]>;
  /** Rows holding a term and its occurrences in every column (FTS5's own counts: fts5vocab's `doc`, `cnt`). */
  termTotals: Database.Statement<[string], [number, number]>;
  /** FTS5's averages record (row 1 of `_data`), whose first varint is bm25()'s N. */
  averages: Database.Statement<[], Buffer>;
  /** Every row holding one term, ascending, with the score the term alone gives it. */
  impacts: Database.Statement<[string], [number, number]>;
  /**
   * One row's score for one term, when the row holds it. The rowid is bound as a bigint: FTS5 applies
   * a rowid constraint only to an integer value, and the driver binds numbers as reals.
   */
  impactAt: Database.Statement<[string, bigint], [number, number]>;
  /**
   * The rows holding a term, once per occurrence, ascending (fts5vocab's `instance` table), joined by
   * commas (null when none): the term's rows and frequencies without bm25() computed row by row.
   * Every column's: only {@link EVERY_TOKEN} is ever in the `every` column, and it is read with
   * `everyOccurrences`.
   */
  occurrences: Database.Statement<[string], string | null>;
  /** {@link occurrences} of the `terms` column only, for {@link EVERY_TOKEN}. */
  everyOccurrences: Database.Statement<[string], string | null>;
  /** Every row's sizes per column (varints), FTS5's `_docsize`. */
  lengths: Database.Statement<[], [number, Buffer]>;
  lengthAt: Database.Statement<[number], Buffer>;
}

export function tenantTableName(collection: string, tenant: string): string {
  return `${collection}__fts_${createHash('sha256').update(tenant).digest('hex').slice(0, 32)}`;
}

/** An SQLite varint (as FTS5 writes them) at `offset`: its value and the offset after it. */
function readVarint(bytes: Uint8Array, offset: number): [number, number] | undefined {
  let value = 0;
  for (let i = 0; i < 9; i++) {
    const byte = bytes[offset + i];
    if (byte === undefined) return undefined;
    if (i === 8) return [value * 256 + byte, offset + 9];
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return [value, offset + i + 1];
  }
  return undefined;
}

/** The sum of the varints of a record: a row's tokens in every column (`_docsize`). */
function varintSum(bytes: Uint8Array): number {
  let sum = 0;
  let offset = 0;
  while (offset < bytes.length) {
    const read = readVarint(bytes, offset);
    if (read === undefined) return Number.NaN;
    sum += read[0];
    offset = read[1];
  }
  return sum;
}

/** FTS5 phrase for a token: quoted, so that nothing in it reads as query syntax. */
function phrase(token: string): string {
  return `"${token.replaceAll('"', '""')}"`;
}

/**
 * FTS5 query for "any of the required tokens", scored with the required and the optional tokens: the
 * optional group is true for every row (through `every`), so it does not narrow the match, but its
 * phrases are part of the query and bm25() scores them in the rows that hold them.
 */
export function ftsQuery(required: readonly string[], optional: readonly string[] = []): string {
  const match = `terms : (${required.map(phrase).join(' OR ')})`;
  if (optional.length === 0) return match;
  return `${match} AND (terms : (${optional.map(phrase).join(' OR ')}) OR every : ${EVERY_TOKEN})`;
}

/** The FTS5 query that scores one term alone. */
export function termQuery(token: string): string {
  return `terms : ${phrase(token)}`;
}

/** About what a cached term holds beyond its arrays: the entry, its map slot, its shapes' object. */
const ENTRY_BYTES = 256;
/** About what one palette shape costs (a term frequency, a length and a map entry). */
const SHAPE_BYTES = 64;

/** The memory a changed row's kept `terms` are charged: the string (two bytes a character at most), its entry. */
function rowTermsBytes(terms: string | null): number {
  return (terms?.length ?? 0) * 2 + 64;
}

/** The memory a cached term is charged against the cache's budget. */
function entryBytes(entry: CachedTerm): number {
  return impactBytes(entry.impacts) + ENTRY_BYTES + (entry.shapes?.tf.length ?? 0) * SHAPE_BYTES;
}

/**
 * The palette entry of a row with the term `tf` times in `length` tokens, added with its score when
 * new; undefined when the two do not fit the palette's key (then the term cannot follow writes).
 */
function paletteCode(
  shapes: NonNullable<CachedTerm['shapes']>,
  palette: number[],
  tf: number,
  length: number | undefined,
  idf: number,
  averageLength: number,
): number | undefined {
  if (length === undefined || !Number.isInteger(length) || length < 0 || length >= LENGTH_KEY) {
    return undefined;
  }
  if (!(tf >= 1) || tf >= 2 ** 28) return undefined;
  const key = tf * LENGTH_KEY + length;
  let code = shapes.codeOf.get(key);
  if (code === undefined) {
    code = shapes.tf.length;
    shapes.tf.push(tf);
    shapes.length.push(length);
    shapes.codeOf.set(key, code);
    palette.push(bm25Part(idf, tf, length, averageLength));
  }
  return code;
}

/** How many times `token` is one of the space-separated tokens of `terms`. */
export function countToken(terms: string, token: string): number {
  if (token === '') return 0;
  let count = 0;
  for (let at = terms.indexOf(token); at !== -1; at = terms.indexOf(token, at + token.length)) {
    const end = at + token.length;
    if (
      (at === 0 || terms.charCodeAt(at - 1) === 32) &&
      (end === terms.length || terms.charCodeAt(end) === 32)
    ) {
      count++;
    }
  }
  return count;
}

export class TenantLexicalIndexes {
  private readonly registry: string;
  private readonly indexes = new LruMap<string, TenantIndex>(CACHED_TENANTS * 4);
  private readonly caches = new LruMap<string, TenantCache>(CACHED_TENANTS, (cache) => {
    this.cachedBytes -= cache.bytes;
  });
  /** Bytes held in every tenant's `impacts` and `rowTerms`. */
  private cachedBytes = 0;
  private readonly statements: {
    find: Database.Statement<[string], string>;
    register: Database.Statement<[string, string]>;
    generation: Database.Statement<[string], number>;
    bump: Database.Statement<[string], number>;
    ln: Database.Statement<[number], number | null>;
  };
  /** Statements on the log, prepared when first used (a file written before has no log). */
  private logStatements:
    | {
        insert: Database.Statement<[string, number, number]>;
        prune: Database.Statement<[string, number]>;
        changes: Database.Statement<[string, number, number], [number, number]>;
      }
    | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly collection: string,
    /** Most bytes of term impacts (and changed rows' terms) kept in memory, all tenants together. */
    private readonly maxCachedBytes = 0,
    /**
     * A row's `terms` column as written (its tokens joined by spaces), undefined when the tenant has
     * no such row: with it a cached term follows a write by counting itself in the changed rows'
     * tokens; without it a changed term is read again (see `follow`).
     */
    private readonly rowTerms?: (tenant: string, rowid: number) => string | undefined,
  ) {
    this.registry = `"${collection}__lexical"`;
    this.statements = {
      find: db.prepare<[string], string>(`SELECT fts FROM ${this.registry} WHERE tenant = ?`).pluck(),
      register: db.prepare(`INSERT OR IGNORE INTO ${this.registry} (tenant, fts) VALUES (?, ?)`),
      generation: db
        .prepare<[string], number>(`SELECT generation FROM ${this.registry} WHERE tenant = ?`)
        .pluck(),
      bump: db
        .prepare<[string], number>(
          `UPDATE ${this.registry} SET generation = generation + 1 WHERE tenant = ? RETURNING generation`,
        )
        .pluck(),
      // SQLite's ln() is the C library's log(), which FTS5's bm25() uses for its IDF.
      ln: db.prepare<[number], number | null>('SELECT ln(?)').pluck(),
    };
  }

  private log() {
    if (this.logStatements === undefined) {
      const log = `"${this.collection}__lexical_log"`;
      this.logStatements = {
        insert: this.db.prepare(`INSERT OR IGNORE INTO ${log} (tenant, generation, chunk) VALUES (?, ?, ?)`),
        prune: this.db.prepare(`DELETE FROM ${log} WHERE tenant = ? AND generation <= ?`),
        changes: this.db
          .prepare<[string, number, number], [number, number]>(
            `SELECT generation, chunk FROM ${log} WHERE tenant = ? AND generation > ? AND generation <= ?`,
          )
          .raw(),
      };
    }
    return this.logStatements;
  }

  /** The registry table; created with the collection's other tables. */
  static createRegistrySql(collection: string): string {
    return (
      `CREATE TABLE IF NOT EXISTS "${collection}__lexical" (` +
      'tenant TEXT PRIMARY KEY, fts TEXT NOT NULL UNIQUE, generation INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID'
    );
  }

  /** The log of changed rows; created with the collection's other tables. */
  static createLogSql(collection: string): string {
    return (
      `CREATE TABLE IF NOT EXISTS "${collection}__lexical_log" (` +
      'tenant TEXT NOT NULL, generation INTEGER NOT NULL, chunk INTEGER NOT NULL, ' +
      'PRIMARY KEY (tenant, generation, chunk)) WITHOUT ROWID'
    );
  }

  static createTableSql(name: string): string {
    return (
      `CREATE VIRTUAL TABLE IF NOT EXISTS "${name}" USING fts5(terms, every, content = '', ` +
      "contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0')"
    );
  }

  /** The tenant's index, created when missing. Call inside a write transaction. */
  ensure(tenant: string): TenantIndex {
    const found = this.find(tenant);
    if (found !== undefined) return found;
    const name = tenantTableName(this.collection, tenant);
    this.db.exec(TenantLexicalIndexes.createTableSql(name));
    this.statements.register.run(tenant, name);
    return this.open(tenant, name);
  }

  /** The tenant's index, or undefined when the tenant never had chunks. */
  find(tenant: string): TenantIndex | undefined {
    const cached = this.indexes.get(tenant);
    if (cached !== undefined) return cached;
    const name = this.statements.find.get(tenant);
    return name === undefined ? undefined : this.open(tenant, name);
  }

  /**
   * Marks the tenant's statistics as changed; call once per write transaction that touched its index,
   * then {@link logChange} for every row it writes or deletes. Returns the new generation.
   */
  touch(tenant: string): number {
    const generation = this.statements.bump.get(tenant)!;
    this.log().prune.run(tenant, generation - LOGGED_GENERATIONS);
    return generation;
  }

  /** Records that the write of `generation` changed the row (written, re-written or deleted). */
  logChange(tenant: string, generation: number, rowid: number): void {
    this.log().insert.run(tenant, generation, rowid);
  }

  /**
   * The connection's cache for the tenant's current generation (read in the caller's transaction, so
   * that what is cached and the query see one snapshot). After writes, the cache learns from the log
   * which rows changed, and its terms follow when next used; without the log it starts afresh.
   */
  cacheOf(index: TenantIndex): TenantCache {
    const tenant = index.tenant;
    const generation = this.statements.generation.get(tenant) ?? 0;
    let cache = this.caches.get(tenant);
    if (
      cache !== undefined &&
      (cache.terms.size > CACHED_TERMS_PER_TENANT ||
        cache.impacts.size > CACHED_TERMS_PER_TENANT ||
        (cache.generation !== generation && !this.advance(index, cache, generation)))
    ) {
      this.cachedBytes -= cache.bytes;
      cache = undefined;
    }
    if (cache === undefined) {
      cache = {
        generation,
        terms: new Map(),
        impacts: new Map(),
        bytes: 0,
        changes: new Map(),
        changedRows: 0,
        lengths: undefined,
        totals: undefined,
        rowTerms: new Map(),
      };
      this.caches.set(tenant, cache);
    }
    return cache;
  }

  /** Brings the cache to `generation` through the log; false when the log does not cover the gap. */
  private advance(index: TenantIndex, cache: TenantCache, generation: number): boolean {
    if (generation < cache.generation) return false;
    let rows: Array<[number, number]>;
    try {
      rows = this.log().changes.all(index.tenant, cache.generation, generation);
    } catch {
      return false;
    }
    if (cache.changedRows + rows.length > FOLLOWED_ROWS) return false;
    const changes = new Map<number, number[]>();
    for (const [at, rowid] of rows) {
      const list = changes.get(at);
      if (list === undefined) changes.set(at, [rowid]);
      else list.push(rowid);
    }
    // Every write logs at least one row: a generation without rows was written without the log.
    if (changes.size !== generation - cache.generation) return false;
    for (const [at, list] of changes) cache.changes.set(at, list);
    cache.changedRows += rows.length;
    for (const [, rowid] of rows) this.forgetRowTerms(cache, rowid);
    if (cache.lengths !== undefined) {
      for (const [, rowid] of rows) {
        const sizes = index.lengthAt.get(rowid);
        if (sizes === undefined) cache.lengths.delete(rowid);
        else cache.lengths.set(rowid, varintSum(sizes));
      }
    }
    cache.generation = generation;
    cache.terms.clear();
    cache.totals = undefined;
    return true;
  }

  /** Rows holding the term in the tenant (FTS5's own count), cached. */
  documents(index: TenantIndex, cache: TenantCache, token: string): number {
    let stats = cache.terms.get(token);
    if (stats === undefined) {
      stats = { documents: index.termTotals.get(token)?.[0] ?? 0 };
      cache.terms.set(token, stats);
    }
    return stats.documents;
  }

  /**
   * The term's rows and scores in the tenant: from the cache (brought to the current generation when
   * writes came since), else read from FTS5 (one pass over the term's rows) and cached while the
   * memory budget allows, evicting the least recently searched tenants' impacts first.
   */
  impacts(index: TenantIndex, cache: TenantCache, token: string): TermImpacts {
    let entry = cache.impacts.get(token);
    if (entry !== undefined) {
      // Most recently used last, so that eviction takes the oldest first.
      cache.impacts.delete(token);
      if (entry.generation !== cache.generation) {
        cache.bytes -= entryBytes(entry);
        this.cachedBytes -= entryBytes(entry);
        entry = this.follow(index, cache, token, entry);
        if (entry !== undefined) {
          cache.bytes += entryBytes(entry);
          this.cachedBytes += entryBytes(entry);
        }
      }
      if (entry !== undefined) {
        cache.impacts.set(token, entry);
        return entry.impacts;
      }
    }
    entry = this.read(index, cache, token);
    const bytes = entryBytes(entry);
    if (bytes > this.maxCachedBytes) return entry.impacts;
    // The tenant being searched is the most recently used entry: other tenants go first, then this
    // tenant's least recently used terms.
    while (this.cachedBytes + bytes > this.maxCachedBytes && this.caches.size > 1) {
      this.caches.evictOldest();
    }
    // Changed rows' kept terms first: they are fetched again when needed.
    for (const rowid of cache.rowTerms.keys()) {
      if (this.cachedBytes + bytes <= this.maxCachedBytes) break;
      this.forgetRowTerms(cache, rowid);
    }
    for (const [oldToken, old] of cache.impacts) {
      if (this.cachedBytes + bytes <= this.maxCachedBytes) break;
      cache.impacts.delete(oldToken);
      cache.bytes -= entryBytes(old);
      this.cachedBytes -= entryBytes(old);
    }
    cache.impacts.set(token, entry);
    cache.bytes += bytes;
    this.cachedBytes += bytes;
    return entry.impacts;
  }

  /** bm25()'s N and average row length (tokens of every column over N), from FTS5's averages record. */
  private totals(index: TenantIndex, cache: TenantCache): TenantCache['totals'] {
    if (cache.totals !== undefined) return cache.totals;
    const record = index.averages.get();
    if (record === undefined) return undefined;
    const first = readVarint(record, 0);
    if (first === undefined || first[0] <= 0) return undefined;
    let tokens = 0;
    let offset = first[1];
    while (offset < record.length) {
      const read = readVarint(record, offset);
      if (read === undefined) return undefined;
      tokens += read[0];
      offset = read[1];
    }
    cache.totals = { rows: first[0], averageLength: tokens / first[0] };
    return cache.totals;
  }

  /** FTS5's IDF of a term in `documents` of `rows` rows, as bm25() computes it; undefined if not a number. */
  private idf(rows: number, documents: number): number | undefined {
    const idf = this.statements.ln.get((rows - documents + 0.5) / (documents + 0.5));
    if (idf === null || idf === undefined || Number.isNaN(idf)) return undefined;
    return idf <= 0 ? 1e-6 : idf;
  }

  private lengthsOf(index: TenantIndex, cache: TenantCache): Map<number, number> {
    if (cache.lengths === undefined) {
      cache.lengths = new Map();
      for (const [rowid, sizes] of index.lengths.all()) cache.lengths.set(rowid, varintSum(sizes));
    }
    return cache.lengths;
  }

  /**
   * Reads the term's rows and scores from FTS5: from its occurrences where `readOccurrences` can, else
   * as bm25() gives them, telling apart the term frequency and row length behind each score, checked
   * by computing every score again: the palette is then keyed by both, so that a later generation's
   * scores can be computed from them. In a tenant under 1,024 rows the scores are kept without them
   * (the term is read again after a write).
   */
  private read(index: TenantIndex, cache: TenantCache, token: string): CachedTerm {
    const counted = this.readOccurrences(index, cache, token);
    if (counted !== undefined) return counted;
    const rows = index.impacts.all(termQuery(token));
    const generation = cache.generation;
    const totals = this.totals(index, cache);
    const idf = totals === undefined ? undefined : this.idf(totals.rows, rows.length);
    // In a tenant of few rows a term is read again after a write rather than followed: reading it
    // costs about what learning every row's length first would (`bench:search` at 1,000 chunks).
    if (totals === undefined || idf === undefined || totals.rows < FOLLOW_MIN_ROWS)
      return { impacts: packImpacts(rows), generation, shapes: undefined };
    const lengths = this.lengthsOf(index, cache);
    const shapes = { tf: [] as number[], length: [] as number[], codeOf: new Map<number, number>() };
    const palette: number[] = [];
    const codes = new Uint32Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const [rowid, score] = rows[i]!;
      const code = this.shapeCode(shapes, palette, lengths.get(rowid), score, idf, totals.averageLength);
      if (code === undefined) return { impacts: packImpacts(rows), generation, shapes: undefined };
      codes[i] = code;
    }
    return { impacts: paletteImpacts(packRowids(rows), codes, palette), generation, shapes };
  }

  /**
   * The term's rows and scores computed from its occurrences and the rows' lengths, as `follow` computes
   * a later generation's: reading the occurrences costs a fraction of what bm25() row by row costs
   * (`bench:search`'s first pass). Undefined, and the term is read with bm25(), in a tenant of few rows,
   * for a term FTS5 counts in no row (a token its tokenizer would change), when the occurrences do not
   * give every row FTS5 counts for the term ({@link EVERY_TOKEN}, read from the `terms` column only,
   * where FTS5 counts the `every` column's rows too), when a row's length is unknown, or when the
   * middle row's score is not FTS5's own (which is what catches any other token written to the
   * `every` column in every row: its occurrences there would count in its frequencies). One row is
   * checked: each check costs a pass over the term's rows (bm25() counts them for its IDF).
   */
  private readOccurrences(index: TenantIndex, cache: TenantCache, token: string): CachedTerm | undefined {
    const totals = this.totals(index, cache);
    if (totals === undefined || totals.rows < FOLLOW_MIN_ROWS) return undefined;
    const documents = this.documents(index, cache, token);
    if (documents === 0) return undefined;
    let list: string | null | undefined;
    try {
      list = (token === EVERY_TOKEN ? index.everyOccurrences : index.occurrences).get(token);
    } catch {
      // A list longer than SQLite or V8 takes as one string: read with bm25() instead.
      return undefined;
    }
    const rows = list === null || list === undefined ? undefined : countOccurrences(list, documents);
    if (rows === undefined) return undefined;
    const rowCount = rows.rowids.length;
    const idf = this.idf(totals.rows, rowCount);
    if (idf === undefined) return undefined;
    const lengths = this.lengthsOf(index, cache);
    const shapes = { tf: [] as number[], length: [] as number[], codeOf: new Map<number, number>() };
    const palette: number[] = [];
    const codes = new Uint32Array(rowCount);
    for (let i = 0; i < rowCount; i++) {
      const rowid = rows.rowids[i]!;
      const code = paletteCode(shapes, palette, rows.tf[i]!, lengths.get(rowid), idf, totals.averageLength);
      if (code === undefined) return undefined;
      codes[i] = code;
    }
    const rowids = rows.rowids;
    const query = termQuery(token);
    const middle = rowCount >> 1;
    const row = index.impactAt.get(query, BigInt(rowids[middle]!));
    if (row === undefined || row[1] !== palette[codes[middle]!]) return undefined;
    return { impacts: paletteImpacts(rowids, codes, palette), generation: cache.generation, shapes };
  }

  /**
   * The palette entry of a row of the given length and score: its term frequency recovered from the
   * score, the entry added when new. Undefined when the score is not exactly what that frequency and
   * length give (then the term cannot follow writes).
   */
  private shapeCode(
    shapes: NonNullable<CachedTerm['shapes']>,
    palette: number[],
    length: number | undefined,
    score: number,
    idf: number,
    averageLength: number,
  ): number | undefined {
    if (length === undefined) return undefined;
    const estimate = bm25TermFrequency(score, idf, length, averageLength);
    const tf = Math.round(estimate);
    if (Math.abs(estimate - tf) > 1e-3) return undefined;
    const code = paletteCode(shapes, palette, tf, length, idf, averageLength);
    return code !== undefined && palette[code] === score ? code : undefined;
  }

  /**
   * A changed row's `terms` in the current snapshot (null when the tenant no longer has it), kept
   * until the row changes again; undefined without a source of rows' terms.
   */
  private changedRowTerms(index: TenantIndex, cache: TenantCache, rowid: number): string | null | undefined {
    if (this.rowTerms === undefined) return undefined;
    let terms = cache.rowTerms.get(rowid);
    if (terms === undefined) {
      terms = this.rowTerms(index.tenant, rowid) ?? null;
      // Kept while the budget allows (fetched again otherwise): term impacts go first.
      const bytes = rowTermsBytes(terms);
      if (this.cachedBytes + bytes <= this.maxCachedBytes) {
        cache.rowTerms.set(rowid, terms);
        cache.bytes += bytes;
        this.cachedBytes += bytes;
      }
    }
    return terms;
  }

  private forgetRowTerms(cache: TenantCache, rowid: number): void {
    const terms = cache.rowTerms.get(rowid);
    if (terms === undefined) return;
    cache.rowTerms.delete(rowid);
    const bytes = rowTermsBytes(terms);
    cache.bytes -= bytes;
    this.cachedBytes -= bytes;
  }

  /**
   * The cached term brought to the cache's generation: the term is counted in each changed row's
   * terms (dropped, added or re-scored), then every palette entry is scored with the new N, average
   * length and IDF. The term's row and occurrence counts are checked against FTS5's, and one changed
   * row holding the term (else one unchanged row) against FTS5's own score; undefined when anything
   * does not match or the rows' terms are not at hand, and the term is read again. (FTS5 itself
   * would look each row up at the cost of a pass over the term's rows: bm25() counts them for its
   * IDF at every query.)
   */
  private follow(
    index: TenantIndex,
    cache: TenantCache,
    token: string,
    entry: CachedTerm,
  ): CachedTerm | undefined {
    const { shapes } = entry;
    const lengths = cache.lengths;
    const totals = this.totals(index, cache);
    if (shapes === undefined || lengths === undefined || totals === undefined) return undefined;
    const changed = new Set<number>();
    for (let at = entry.generation + 1; at <= cache.generation; at++) {
      const rows = cache.changes.get(at);
      if (rows === undefined) return undefined;
      for (const rowid of rows) changed.add(rowid);
    }
    // A term with few rows beside many changes is read again.
    let unfetched = 0;
    for (const rowid of changed) if (!cache.rowTerms.has(rowid)) unfetched++;
    if (unfetched * FETCH_COST + changed.size * COUNT_COST > entry.impacts.rowids.length) return undefined;
    const found: Array<[number, number]> = [];
    for (const rowid of [...changed].sort((a, b) => a - b)) {
      const terms = this.changedRowTerms(index, cache, rowid);
      if (terms === undefined) return undefined;
      const tf = terms === null ? 0 : countToken(terms, token);
      if (tf > 0) found.push([rowid, tf]);
    }
    const old = entry.impacts;
    let kept = 0;
    let sample = -1;
    let occurrences = 0;
    for (let i = 0; i < old.rowids.length; i++) {
      if (changed.has(old.rowids[i]!)) continue;
      kept++;
      occurrences += shapes.tf[old.codes[i]!]!;
      if (sample === -1) sample = i;
    }
    for (const [, tf] of found) occurrences += tf;
    const documents = kept + found.length;
    // FTS5's own row and occurrence counts of the term: a row whose terms FTS5's tokenizer reads
    // otherwise than `lexicalTokens` (it splits some scripts at their marks, folds a final sigma)
    // shows here, where a score might not (the IDF of a term in half the rows or more is the same).
    // (Not for EVERY_TOKEN: FTS5 counts it in the `every` column of every row too.)
    if (token !== EVERY_TOKEN) {
      const [ftsDocuments, ftsOccurrences] = index.termTotals.get(token) ?? [0, 0];
      if (ftsDocuments !== documents || ftsOccurrences !== occurrences) return undefined;
      cache.terms.set(token, { documents });
    }
    const idf = this.idf(totals.rows, documents);
    if (idf === undefined) return undefined;
    const next = { tf: [...shapes.tf], length: [...shapes.length], codeOf: new Map(shapes.codeOf) };
    // Scores of the new generation for the entries known so far; new entries are added to it.
    const palette = next.tf.map((tf, code) => bm25Part(idf, tf, next.length[code]!, totals.averageLength));
    const foundCodes: number[] = [];
    for (const [rowid, tf] of found) {
      const code = paletteCode(next, palette, tf, lengths.get(rowid), idf, totals.averageLength);
      if (code === undefined) return undefined;
      foundCodes.push(code);
    }
    // FTS5's own score of one changed row holding the term, else of one unchanged row: a count
    // unlike FTS5's in that row, or totals unlike its own, show. One score lookup a term: each costs
    // a pass over the term's rows, as the counts above do.
    const query = termQuery(token);
    if (found.length > 0) {
      const row = index.impactAt.get(query, BigInt(found[0]![0]));
      if (row === undefined || palette[foundCodes[0]!] !== row[1]) return undefined;
    } else if (sample !== -1) {
      const row = index.impactAt.get(query, BigInt(old.rowids[sample]!));
      if (row === undefined || palette[old.codes[sample]!] !== row[1]) return undefined;
    }
    let impacts: TermImpacts;
    if (kept === old.rowids.length && found.length === 0) {
      impacts = { rowids: old.rowids, codes: old.codes, palette: Float64Array.from(palette) };
    } else {
      const small = old.rowids instanceof Uint32Array && found.every(([rowid]) => fitsUint32(rowid));
      const rowids = small ? new Uint32Array(documents) : new Float64Array(documents);
      const codes = palette.length <= 0x10000 ? new Uint16Array(documents) : new Uint32Array(documents);
      let w = 0;
      let f = 0;
      for (let i = 0; i < old.rowids.length; i++) {
        const rowid = old.rowids[i]!;
        while (f < found.length && found[f]![0] < rowid) {
          rowids[w] = found[f]![0];
          codes[w++] = foundCodes[f++]!;
        }
        if (changed.has(rowid)) continue;
        rowids[w] = rowid;
        codes[w++] = old.codes[i]!;
      }
      while (f < found.length) {
        rowids[w] = found[f]![0];
        codes[w++] = foundCodes[f++]!;
      }
      impacts = { rowids, codes, palette: Float64Array.from(palette) };
    }
    return { impacts, generation: cache.generation, shapes: next };
  }

  /** Forgets cached statements and statistics (the connection is closing). */
  clear(): void {
    this.indexes.clear();
    this.caches.clear();
    this.cachedBytes = 0;
  }

  private open(tenant: string, name: string): TenantIndex {
    const table = `"${name}"`;
    // Per connection, so that the file's schema stays as it is: rows holding each term of the index.
    const vocabulary = `temp."${name}_rows"`;
    this.db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS ${vocabulary} USING fts5vocab(main, ${table}, 'row')`);
    const instances = `temp."${name}_instances"`;
    this.db.exec(
      `CREATE VIRTUAL TABLE IF NOT EXISTS ${instances} USING fts5vocab(main, ${table}, 'instance')`,
    );
    const index: TenantIndex = {
      tenant,
      table,
      name,
      insert: this.db.prepare(`INSERT INTO ${table} (rowid, terms, every) VALUES (?, ?, ?)`),
      delete: this.db.prepare(`DELETE FROM ${table} WHERE rowid = ?`),
      termTotals: this.db
        .prepare<[string], [number, number]>(`SELECT doc, cnt FROM ${vocabulary} WHERE term = ?`)
        .raw(),
      averages: this.db.prepare<[], Buffer>(`SELECT block FROM "${name}_data" WHERE id = 1`).pluck(),
      // bm25() negated, as every search reports it: the term's part of a row's score.
      impacts: this.db
        .prepare<[string], [number, number]>(
          `SELECT rowid, -bm25(${table}, 1.0, 0.0) FROM ${table} WHERE ${table} MATCH ?`,
        )
        .raw(),
      impactAt: this.db
        .prepare<[string, bigint], [number, number]>(
          `SELECT rowid, -bm25(${table}, 1.0, 0.0) FROM ${table} WHERE ${table} MATCH ? AND rowid = ?`,
        )
        .raw(),
      // Without the column's test a common term's occurrences are read 6–13 % faster (bench/README.md).
      // As one string (`countOccurrences`): a common term's read takes about 0.6 of the time it
      // takes with a row per occurrence.
      occurrences: this.db
        .prepare<[string], string | null>(`SELECT group_concat(doc) FROM ${instances} WHERE term = ?`)
        .pluck(),
      everyOccurrences: this.db
        .prepare<[string], string | null>(
          `SELECT group_concat(doc) FROM ${instances} WHERE term = ? AND col = 'terms'`,
        )
        .pluck(),
      lengths: this.db.prepare<[], [number, Buffer]>(`SELECT id, sz FROM "${name}_docsize"`).raw(),
      lengthAt: this.db.prepare<[number], Buffer>(`SELECT sz FROM "${name}_docsize" WHERE id = ?`).pluck(),
    };
    this.indexes.set(tenant, index);
    return index;
  }
}
