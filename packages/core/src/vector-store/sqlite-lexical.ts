/**
 * The lexical index of the SQLite store, one FTS5 table per tenant, so that BM25's statistics (the row
 * count N, the average row length and each term's document frequency) are the tenant's own: a tenant's
 * scores and ranking neither depend on nor reveal other tenants' documents.
 *
 * Tables of a collection `c`:
 * - `c__lexical`: one row per tenant that has (or had) chunks: its FTS5 table's name and a generation
 *   counter raised by every write to that table, which keys the per-connection cache of term statistics.
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
import { impactBytes, packImpacts, type TermImpacts } from './lexical-topk.js';

/** The token of the `every` column. Queries reach it only through the column filter `every :`. */
export const EVERY_TOKEN = 'x';

/** Terms per tenant whose row counts a connection caches, and tenants it keeps them for. */
const CACHED_TERMS_PER_TENANT = 8192;
const CACHED_TENANTS = 64;

/** What a search knows about one query term in one tenant, valid for one generation. */
export interface TermStats {
  /** Rows of the tenant holding the term. */
  documents: number;
}

/** What a connection has cached about one tenant, valid while the tenant's generation stays. */
export interface TenantCache {
  generation: number;
  terms: Map<string, TermStats>;
  /** Each term's rows and what the term alone scores in each (its part of any query's bm25()). */
  impacts: Map<string, TermImpacts>;
  /** Bytes held in `impacts`, all terms together. */
  bytes: number;
}

export interface TenantIndex {
  tenant: string;
  /** Quoted table name, ready for SQL. */
  table: string;
  /** Bare table name, as FTS5's auxiliary functions take it. */
  name: string;
  insert: Database.Statement<[number, string, string]>;
  delete: Database.Statement<[number]>;
  /** Rows holding a term (FTS5's own count, through fts5vocab). */
  rowsWithTerm: Database.Statement<[string], number>;
  /** FTS5's averages record (row 1 of `_data`), whose first varint is bm25()'s N. */
  averages: Database.Statement<[], Buffer>;
  /** Every row holding one term, ascending, with the score the term alone gives it. */
  impacts: Database.Statement<[string], [number, number]>;
}

/** A small least-recently-used map: `get` refreshes, `set` evicts the oldest beyond `capacity`. */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(
    private readonly capacity: number,
    private readonly onEvict?: (value: V) => void,
  ) {}
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.evictOldest();
  }
  /** Drops the least recently used entry; false when empty. */
  evictOldest(): boolean {
    const oldest = this.map.entries().next();
    if (oldest.done === true) return false;
    this.map.delete(oldest.value[0]);
    this.onEvict?.(oldest.value[1]);
    return true;
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}

export function tenantTableName(collection: string, tenant: string): string {
  return `${collection}__fts_${createHash('sha256').update(tenant).digest('hex').slice(0, 32)}`;
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

export class TenantLexicalIndexes {
  private readonly registry: string;
  private readonly indexes = new LruMap<string, TenantIndex>(CACHED_TENANTS * 4);
  private readonly caches = new LruMap<string, TenantCache>(CACHED_TENANTS, (cache) => {
    this.cachedBytes -= cache.bytes;
  });
  /** Bytes held in every tenant's `impacts`. */
  private cachedBytes = 0;
  private readonly statements: {
    find: Database.Statement<[string], string>;
    register: Database.Statement<[string, string]>;
    generation: Database.Statement<[string], number>;
    bump: Database.Statement<[string]>;
  };

  constructor(
    private readonly db: Database.Database,
    private readonly collection: string,
    /** Most bytes of term impacts kept in memory, all tenants together. */
    private readonly maxCachedBytes = 0,
  ) {
    this.registry = `"${collection}__lexical"`;
    this.statements = {
      find: db.prepare<[string], string>(`SELECT fts FROM ${this.registry} WHERE tenant = ?`).pluck(),
      register: db.prepare(`INSERT OR IGNORE INTO ${this.registry} (tenant, fts) VALUES (?, ?)`),
      generation: db
        .prepare<[string], number>(`SELECT generation FROM ${this.registry} WHERE tenant = ?`)
        .pluck(),
      bump: db.prepare(`UPDATE ${this.registry} SET generation = generation + 1 WHERE tenant = ?`),
    };
  }

  /** The registry table; created with the collection's other tables. */
  static createRegistrySql(collection: string): string {
    return (
      `CREATE TABLE IF NOT EXISTS "${collection}__lexical" (` +
      'tenant TEXT PRIMARY KEY, fts TEXT NOT NULL UNIQUE, generation INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID'
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

  /** Marks the tenant's statistics as changed; call once per write transaction that touched its index. */
  touch(tenant: string): void {
    this.statements.bump.run(tenant);
  }

  /**
   * The connection's cache for the tenant's current generation (read in the caller's transaction, so
   * that what is cached and the query see one snapshot); a new generation starts an empty cache.
   */
  cacheOf(tenant: string): TenantCache {
    const generation = this.statements.generation.get(tenant) ?? 0;
    let cache = this.caches.get(tenant);
    if (
      cache === undefined ||
      cache.generation !== generation ||
      cache.terms.size > CACHED_TERMS_PER_TENANT
    ) {
      if (cache !== undefined) this.cachedBytes -= cache.bytes;
      cache = { generation, terms: new Map(), impacts: new Map(), bytes: 0 };
      this.caches.set(tenant, cache);
    }
    return cache;
  }

  /** Rows holding the term in the tenant (FTS5's own count), cached. */
  documents(index: TenantIndex, cache: TenantCache, token: string): number {
    let stats = cache.terms.get(token);
    if (stats === undefined) {
      stats = { documents: index.rowsWithTerm.get(token) ?? 0 };
      cache.terms.set(token, stats);
    }
    return stats.documents;
  }

  /**
   * The term's rows and scores in the tenant: from the cache, else read from FTS5 (one pass over the
   * term's rows) and cached while the memory budget allows, evicting the least recently searched
   * tenants' impacts first.
   */
  impacts(index: TenantIndex, cache: TenantCache, token: string): TermImpacts {
    const cached = cache.impacts.get(token);
    if (cached !== undefined) {
      // Most recently used last, so that eviction takes the oldest first.
      cache.impacts.delete(token);
      cache.impacts.set(token, cached);
      return cached;
    }
    const impacts = packImpacts(index.impacts.all(termQuery(token)));
    const bytes = impactBytes(impacts);
    if (bytes > this.maxCachedBytes) return impacts;
    // The tenant being searched is the most recently used entry: other tenants go first, then this
    // tenant's least recently used terms.
    while (this.cachedBytes + bytes > this.maxCachedBytes && this.caches.size > 1) {
      this.caches.evictOldest();
    }
    for (const [oldToken, old] of cache.impacts) {
      if (this.cachedBytes + bytes <= this.maxCachedBytes) break;
      cache.impacts.delete(oldToken);
      cache.bytes -= impactBytes(old);
      this.cachedBytes -= impactBytes(old);
    }
    cache.impacts.set(token, impacts);
    cache.bytes += bytes;
    this.cachedBytes += bytes;
    return impacts;
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
    const index: TenantIndex = {
      tenant,
      table,
      name,
      insert: this.db.prepare(`INSERT INTO ${table} (rowid, terms, every) VALUES (?, ?, ?)`),
      delete: this.db.prepare(`DELETE FROM ${table} WHERE rowid = ?`),
      rowsWithTerm: this.db.prepare<[string], number>(`SELECT doc FROM ${vocabulary} WHERE term = ?`).pluck(),
      averages: this.db.prepare<[], Buffer>(`SELECT block FROM "${name}_data" WHERE id = 1`).pluck(),
      // bm25() negated, as every search reports it: the term's part of a row's score.
      impacts: this.db
        .prepare<[string], [number, number]>(
          `SELECT rowid, -bm25(${table}, 1.0, 0.0) FROM ${table} WHERE ${table} MATCH ?`,
        )
        .raw(),
    };
    this.indexes.set(tenant, index);
    return index;
  }
}
