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

/** The token of the `every` column. Queries reach it only through the column filter `every :`. */
export const EVERY_TOKEN = 'x';

/** Rows per tenant whose term statistics a connection caches, and tenants it keeps them for. */
const CACHED_TERMS_PER_TENANT = 8192;
const CACHED_TENANTS = 64;

/** What a search knows about one query term in one tenant, valid for one generation. */
export interface TermStats {
  /** Rows of the tenant holding the term. */
  documents: number;
  /** The highest bm25() the term alone gives a row of the tenant, once computed. */
  maxScore?: number;
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
  /** The highest single-term bm25() in the tenant, for a MATCH expression naming one term. */
  maxScore: Database.Statement<[string], number | null>;
}

/** A small least-recently-used map: `get` refreshes, `set` evicts the oldest beyond `capacity`. */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly capacity: number) {}
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
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
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
  private readonly stats = new LruMap<string, { generation: number; terms: Map<string, TermStats> }>(
    CACHED_TENANTS,
  );
  private readonly statements: {
    find: Database.Statement<[string], string>;
    register: Database.Statement<[string, string]>;
    generation: Database.Statement<[string], number>;
    bump: Database.Statement<[string]>;
  };

  constructor(
    private readonly db: Database.Database,
    private readonly collection: string,
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
   * The connection's cache of the tenant's term statistics for its current generation (read in the
   * caller's transaction, so that the statistics and the query see one snapshot).
   */
  termStats(tenant: string): Map<string, TermStats> {
    const generation = this.statements.generation.get(tenant) ?? 0;
    let entry = this.stats.get(tenant);
    if (
      entry === undefined ||
      entry.generation !== generation ||
      entry.terms.size > CACHED_TERMS_PER_TENANT
    ) {
      entry = { generation, terms: new Map() };
      this.stats.set(tenant, entry);
    }
    return entry.terms;
  }

  /** Forgets cached statements and statistics (the connection is closing). */
  clear(): void {
    this.indexes.clear();
    this.stats.clear();
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
      maxScore: this.db
        .prepare<[string], number | null>(
          // bm25() cannot sit inside an aggregate: the sort keeps the best row only.
          `SELECT -bm25(${table}, 1.0, 0.0) AS score FROM ${table} WHERE ${table} MATCH ? ` +
            'ORDER BY score DESC LIMIT 1',
        )
        .pluck(),
    };
    this.indexes.set(tenant, index);
    return index;
  }
}
