/**
 * Tenants' dense vectors kept in memory by one connection, for the SQLite store's dense search: a
 * WebAssembly SIMD scan (`dense-kernel.wat`) instead of sqlite-vec's, whose build for x86-64 Linux
 * compares vectors one float at a time and copies every vector chunk out of SQLite. Same exact
 * brute-force KNN; at 100k vectors of dimension 384 the scan takes about a fifth of sqlite-vec's time.
 *
 * A tenant's vectors are read once (from sqlite-vec's chunk tables, else through vec0), then follow
 * its writes through the lexical index's generation counter and change log (`sqlite-lexical.ts`):
 * the rows a write changed are read again, one by one; a gap the log does not cover reads the tenant
 * again. Every read happens inside one read transaction, so the vectors and the rows returned are one
 * snapshot.
 * Tenants are kept while their bytes fit the budget, least recently searched out first; a tenant that
 * alone does not fit is left to sqlite-vec (`top` returns undefined).
 */
import type Database from 'better-sqlite3';
import { LruMap } from '../lru-map.js';
import { DENSE_KERNEL_WASM } from './dense-kernel.js';
import { compareCodePoints } from './ids.js';

const PAGE_BYTES = 65536;
/** Floats per vector in memory: the dimension rounded up to the kernel's 16 lanes. */
const LANES = 16;
/** Bytes a cached row costs beyond its floats: its score, its rowid and its entry in the slot map. */
const ROW_OVERHEAD_BYTES = 4 + 8 + 48;
/** Changed rows read one by one before reading the whole tenant again is cheaper. */
const FOLLOWED_ROWS_MIN = 1024;
/**
 * Bytes one tenant's memory may have: a WebAssembly memory holds at most 4 GiB, and a tenant this
 * big is better served by Qdrant anyway. Larger tenants are left to sqlite-vec.
 */
const MAX_TENANT_BYTES = 2 ** 31;
/**
 * Tenants a connection keeps: each holds a WebAssembly memory of its own, of which a process can
 * map some thousands.
 */
const MAX_TENANTS = 1024;
/** Tenants remembered as too big for the budget. */
const MAX_TOO_BIG = 4096;
/** Callers' statements kept prepared. */
const PREPARED_STATEMENTS = 64;

type ScoresFunction = (query: number, vectors: number, count: number, stride: number, out: number) => void;

/** The WebAssembly API used here (the libraries this project compiles against do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
const wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => object;
      Memory: new (descriptor: { initial: number }) => WasmMemory;
      Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
    };
  }
).WebAssembly;

let kernel: object | undefined;

/** The compiled kernel; throws where the runtime has no WebAssembly SIMD. */
function kernelModule(): object {
  kernel ??= new wasm.Module(Buffer.from(DENSE_KERNEL_WASM, 'base64'));
  return kernel;
}

/** Whether this runtime can run the in-memory scan (WebAssembly with SIMD). */
export function denseKernelAvailable(): boolean {
  try {
    kernelModule();
    return true;
  } catch {
    return false;
  }
}

/** Floats a vector of `dimension` takes in memory. */
function strideOf(dimension: number): number {
  return Math.ceil(dimension / LANES) * LANES;
}

/** One hit of the scan: a vec0 rowid and the cosine similarity of its (unit) vector to the query. */
export interface DenseHit {
  rowid: number;
  score: number;
}

/**
 * One tenant's vectors in a WebAssembly memory of their own: the query (`stride` floats), one score
 * per row, then the rows' vectors, `stride` floats each, zero-padded beyond the dimension. Rows are
 * dense: a deleted row's slot takes the last row.
 */
export class TenantVectors {
  private capacity = 0;
  private size = 0;
  private memory!: WasmMemory;
  private floats!: Float32Array;
  private bytes8!: Uint8Array;
  private scores!: ScoresFunction;
  private scoresAt = 0;
  private vectorsAt = 0;
  private rowids = new Float64Array(0);
  private readonly slots = new Map<number, number>();
  readonly stride: number;

  constructor(
    readonly dimension: number,
    capacity: number,
    /** The tenant's lexical generation these vectors are current for. */
    public generation: number,
  ) {
    this.stride = strideOf(dimension);
    this.allocate(TenantVectors.capacityFor(capacity));
  }

  /** The rows allocated for `rows` rows: some room to grow, so that a write rarely moves them all. */
  static capacityFor(rows: number): number {
    return Math.max(16, rows + Math.ceil(rows / 8));
  }

  get count(): number {
    return this.size;
  }

  /** Bytes held, memory and bookkeeping. */
  get bytes(): number {
    return TenantVectors.bytesFor(this.dimension, this.capacity);
  }

  /** Bytes a tenant of `rows` rows would hold. */
  static bytesFor(dimension: number, rows: number): number {
    const stride = strideOf(dimension);
    return rows * (stride * 4 + ROW_OVERHEAD_BYTES) + stride * 4 + PAGE_BYTES;
  }

  /** Sets a row's vector (`dimension` float32s, as vec0 returns them), adding the row when new. */
  set(rowid: number, vector: Uint8Array): void {
    if (vector.byteLength !== this.dimension * 4) {
      throw new Error(`a stored vector has ${vector.byteLength} bytes, not ${this.dimension * 4}`);
    }
    let slot = this.slots.get(rowid);
    if (slot === undefined) {
      if (this.size === this.capacity) this.allocate(TenantVectors.capacityFor(this.capacity));
      slot = this.size++;
      this.slots.set(rowid, slot);
      this.rowids[slot] = rowid;
    }
    this.bytes8.set(vector, this.vectorsAt + slot * this.stride * 4);
  }

  /** A row's vector as `set` took it (`dimension` float32s), or undefined when the row is not here. */
  vectorOf(rowid: number): Uint8Array | undefined {
    const slot = this.slots.get(rowid);
    if (slot === undefined) return undefined;
    const at = this.vectorsAt + slot * this.stride * 4;
    return this.bytes8.slice(at, at + this.dimension * 4);
  }

  /** Rowids of the rows at the first, middle and last slots. */
  sampleRowids(): number[] {
    if (this.size === 0) return [];
    return [...new Set([0, this.size >> 1, this.size - 1])].map((slot) => this.rowids[slot]!);
  }

  /** Removes a row; nothing when it is not here. */
  delete(rowid: number): void {
    const slot = this.slots.get(rowid);
    if (slot === undefined) return;
    this.slots.delete(rowid);
    const last = --this.size;
    if (slot !== last) {
      const moved = this.rowids[last]!;
      const rowBytes = this.stride * 4;
      const from = this.vectorsAt + last * rowBytes;
      this.bytes8.copyWithin(this.vectorsAt + slot * rowBytes, from, from + rowBytes);
      this.rowids[slot] = moved;
      this.slots.set(moved, slot);
    }
  }

  /**
   * The `limit` rows most similar to the unit `query` (`dimension` numbers), best first, ties by
   * rowid, and after them every other row whose score ties with the last place, so that the caller
   * can order ties by something else (the store by chunk id) and cut; only rows in `allowed` when
   * given.
   */
  top(query: Float32Array, limit: number, allowed?: ReadonlySet<number>): DenseHit[] {
    if (query.length !== this.dimension) {
      throw new Error(`a query of dimension ${query.length} searched vectors of dimension ${this.dimension}`);
    }
    if (this.size === 0 || limit < 1) return [];
    this.floats.fill(0, 0, this.stride);
    this.floats.set(query, 0);
    this.scores(0, this.vectorsAt, this.size, this.stride, this.scoresAt);
    const scores = new Float32Array(this.memory.buffer, this.scoresAt, this.size);
    // The slots ranked: every slot, or those of the allowed rows held here.
    const ranked = allowed === undefined ? undefined : this.slotsOf(allowed);
    const n = ranked?.length ?? scores.length;
    const heap = new TopK(limit);
    for (let k = 0; k < n; k++) {
      const slot = ranked === undefined ? k : ranked[k]!;
      heap.offer(scores[slot]!, this.rowids[slot]!);
    }
    const hits = heap.sorted();
    if (hits.length < limit) return hits;
    // Rows tied with the last place that the heap left out (identical vectors: repeated text).
    const cut = hits[hits.length - 1]!.score;
    const kept = new Set(hits.filter((hit) => hit.score === cut).map((hit) => hit.rowid));
    for (let k = 0; k < n; k++) {
      const slot = ranked === undefined ? k : ranked[k]!;
      const rowid = this.rowids[slot]!;
      if (scores[slot] === cut && !kept.has(rowid)) hits.push({ rowid, score: cut });
    }
    return hits;
  }

  /** Slots of the rows in `rowids` that are held here. */
  private slotsOf(rowids: ReadonlySet<number>): number[] {
    const slots: number[] = [];
    for (const rowid of rowids) {
      const slot = this.slots.get(rowid);
      if (slot !== undefined) slots.push(slot);
    }
    return slots;
  }

  /** Moves everything to a memory of `capacity` rows. */
  private allocate(capacity: number): void {
    const strideBytes = this.stride * 4;
    const scoresAt = strideBytes;
    const vectorsAt = scoresAt + Math.ceil((capacity * 4) / 16) * 16;
    const total = vectorsAt + capacity * strideBytes;
    const memory = new wasm.Memory({ initial: Math.ceil(total / PAGE_BYTES) });
    const bytes8 = new Uint8Array(memory.buffer);
    if (this.size > 0) {
      bytes8.set(this.bytes8.subarray(this.vectorsAt, this.vectorsAt + this.size * strideBytes), vectorsAt);
    }
    const rowids = new Float64Array(capacity);
    rowids.set(this.rowids.subarray(0, this.size));
    const instance = new wasm.Instance(kernelModule(), { env: { memory } });
    this.scores = instance.exports.scores as ScoresFunction;
    this.memory = memory;
    this.bytes8 = bytes8;
    this.floats = new Float32Array(memory.buffer);
    this.rowids = rowids;
    this.scoresAt = scoresAt;
    this.vectorsAt = vectorsAt;
    this.capacity = capacity;
  }
}

/** The best `limit` (score, rowid) pairs offered: a min-heap on score, then on rowid reversed. */
class TopK {
  private readonly scores: Float64Array;
  private readonly rowids: Float64Array;
  private size = 0;

  constructor(private readonly limit: number) {
    this.scores = new Float64Array(limit);
    this.rowids = new Float64Array(limit);
  }

  offer(score: number, rowid: number): void {
    if (this.size < this.limit) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.worse(score, rowid, this.scores[parent]!, this.rowids[parent]!)) break;
        this.scores[i] = this.scores[parent]!;
        this.rowids[i] = this.rowids[parent]!;
        i = parent;
      }
      this.scores[i] = score;
      this.rowids[i] = rowid;
      return;
    }
    // The root is the worst kept: a pair no better than it changes nothing.
    if (!this.worse(this.scores[0]!, this.rowids[0]!, score, rowid)) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      const right = child + 1;
      if (
        right < this.size &&
        this.worse(this.scores[right]!, this.rowids[right]!, this.scores[child]!, this.rowids[child]!)
      ) {
        child = right;
      }
      if (!this.worse(this.scores[child]!, this.rowids[child]!, score, rowid)) break;
      this.scores[i] = this.scores[child]!;
      this.rowids[i] = this.rowids[child]!;
      i = child;
    }
    this.scores[i] = score;
    this.rowids[i] = rowid;
  }

  sorted(): DenseHit[] {
    const hits: DenseHit[] = [];
    for (let i = 0; i < this.size; i++) hits.push({ rowid: this.rowids[i]!, score: this.scores[i]! });
    return hits.sort((a, b) => b.score - a.score || a.rowid - b.rowid);
  }

  /** Whether (a, ra) ranks below (b, rb): a lower score, or the same score and a higher rowid. */
  private worse(a: number, ra: number, b: number, rb: number): boolean {
    return a < b || (a === b && ra > rb);
  }
}

/** A dense search of one tenant: the unit query vector, and the SELECT of the rowids a filter admits. */
export interface DenseRequest {
  tenant: string;
  vector: Float32Array;
  limit: number;
  candidates?: { sql: string; params: Record<string, unknown> };
}

export interface DenseVectorsOptions {
  /** The store's collection: its `__vec`, `__chunks` and `__lexical*` tables are read. */
  collection: string;
  dimension: number;
  /** Most bytes all cached tenants together hold. */
  budgetBytes: number;
}

/**
 * The cached tenants of one connection. Call {@link top} inside a read transaction on that
 * connection.
 */
export class DenseVectors {
  /** Cached tenants, least recently searched first. */
  private readonly tenants = new Map<string, TenantVectors>();
  /** Tenants found too big for the budget, by the generation at which they were. */
  private readonly tooBig = new LruMap<string, number>(MAX_TOO_BIG);
  private heldBytes = 0;
  private readonly statements: {
    generation: Database.Statement<[string], number>;
    count: Database.Statement<[string], number>;
    vectors: Database.Statement<[string], [number | bigint, Buffer]>;
    vector: Database.Statement<[bigint, string], Buffer>;
  };
  private changes: Database.Statement<[string, number, number], [number, number]> | undefined;
  /** Tied rows' rowids in chunk id order (see `cutTies`). */
  private tiesById: Database.Statement<[string, number], number> | undefined;
  /** sqlite-vec's chunks of a tenant (see `loadChunks`); null when its tables are laid out otherwise. */
  private chunks: Database.Statement<[string], [number, Buffer, Buffer, Buffer]> | null | undefined;
  /** The callers' statements (filters' candidates, rows), by SQL text. */
  private readonly other = new LruMap<string, Database.Statement>(PREPARED_STATEMENTS);

  constructor(
    private readonly db: Database.Database,
    private readonly options: DenseVectorsOptions,
  ) {
    const c = options.collection;
    this.statements = {
      generation: db
        .prepare<[string], number>(`SELECT generation FROM "${c}__lexical" WHERE tenant = ?`)
        .pluck(),
      count: db.prepare<[string], number>(`SELECT COUNT(*) FROM "${c}__chunks" WHERE tenant = ?`).pluck(),
      vectors: db
        .prepare<[string], [number | bigint, Buffer]>(
          `SELECT rowid, embedding FROM "${c}__vec" WHERE tenant = ?`,
        )
        .raw(),
      // With the tenant: a rowid its log names may have been deleted and reused by another tenant since.
      vector: db
        .prepare<[bigint, string], Buffer>(`SELECT embedding FROM "${c}__vec" WHERE rowid = ? AND tenant = ?`)
        .pluck(),
    };
  }

  /** Bytes the cached tenants hold. */
  get bytes(): number {
    return this.heldBytes;
  }

  /**
   * The tenant's `limit` nearest rows to the unit `query`, best first (ties by rowid), then the other
   * rows tied with the last place (see {@link TenantVectors.top}); only rows in `allowed` when given;
   * undefined when the tenant's vectors do not fit the budget.
   */
  top(
    tenant: string,
    query: Float32Array,
    limit: number,
    allowed?: ReadonlySet<number>,
  ): DenseHit[] | undefined {
    const generation = this.statements.generation.get(tenant);
    // A tenant without a lexical index never had chunks.
    if (generation === undefined) return [];
    return this.current(tenant, generation)?.top(query, limit, allowed);
  }

  /**
   * The rows of {@link top}'s hits read by `rowsSql` (a SELECT with two parameters, a JSON array of
   * rowids and the tenant, returning a `rowid` and an `id` column), each with its `score`, best first,
   * ties by id;
   * undefined when the tenant's vectors do not fit. One read transaction: the vectors and the rows are
   * one snapshot.
   */
  rows<Row extends { rowid: number; id: string }>(
    request: DenseRequest,
    rowsSql: string,
  ): Array<Row & { score: number }> | undefined {
    return this.db.transaction(() => {
      let allowed: Set<number> | undefined;
      if (request.candidates !== undefined) {
        allowed = new Set(
          this.prepared(request.candidates.sql, true).all(request.candidates.params) as number[],
        );
        if (allowed.size === 0) return [];
      }
      let hits = this.top(request.tenant, request.vector, request.limit, allowed);
      if (hits === undefined) return undefined;
      if (hits.length === 0) return [];
      if (hits.length > request.limit) hits = this.cutTies(hits, request.limit);
      const scores = new Map(hits.map((hit) => [hit.rowid, hit.score]));
      const rowids = JSON.stringify(hits.map((hit) => hit.rowid));
      const rows = this.prepared(rowsSql, false).all(rowids, request.tenant) as Row[];
      return rows
        .map((row) => ({ ...row, score: scores.get(row.rowid)! }))
        .sort((a, b) => b.score - a.score || compareCodePoints(a.id, b.id))
        .slice(0, request.limit);
    })();
  }

  /**
   * The first `limit` hits when more tie with the last place: the tied rows that come first by chunk
   * id, read as rowids alone (identical vectors, repeated text, can tie by the thousand).
   */
  private cutTies(hits: DenseHit[], limit: number): DenseHit[] {
    const cut = hits[limit - 1]!.score;
    const above = hits.filter((hit) => hit.score > cut);
    this.tiesById ??= this.db
      .prepare<[string, number], number>(
        `SELECT rowid FROM "${this.options.collection}__chunks" ` +
          'WHERE rowid IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT ?',
      )
      .pluck();
    const tied = hits.filter((hit) => hit.score === cut).map((hit) => hit.rowid);
    const first = this.tiesById.all(JSON.stringify(tied), limit - above.length);
    return [...above, ...first.map((rowid) => ({ rowid, score: cut }))];
  }

  private prepared(sql: string, pluck: boolean): Database.Statement {
    let statement = this.other.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      if (pluck) statement.pluck();
      this.other.set(sql, statement);
    }
    return statement;
  }

  /** The tenant's vectors as of the transaction's snapshot, or undefined when they do not fit. */
  private current(tenant: string, generation: number): TenantVectors | undefined {
    let vectors = this.tenants.get(tenant);
    if (vectors !== undefined) {
      // Out of the map while it changes: its bytes are counted again when it goes back.
      this.tenants.delete(tenant);
      this.heldBytes -= vectors.bytes;
      if (vectors.generation !== generation && !this.follow(tenant, vectors, generation)) vectors = undefined;
    }
    if (vectors === undefined) {
      if (this.tooBig.get(tenant) === generation) return undefined;
      vectors = this.load(tenant, generation);
    }
    if (vectors === undefined || !this.makeRoom(vectors.bytes)) {
      this.tooBig.set(tenant, generation);
      return undefined;
    }
    this.tenants.set(tenant, vectors);
    this.heldBytes += vectors.bytes;
    return vectors;
  }

  /** Reads the tenant's vectors whole; undefined when they would not fit. */
  private load(tenant: string, generation: number): TenantVectors | undefined {
    const rows = this.statements.count.get(tenant) ?? 0;
    if (!this.makeRoom(TenantVectors.bytesFor(this.options.dimension, TenantVectors.capacityFor(rows)))) {
      return undefined;
    }
    return this.fitting(() => {
      const fast = this.loadChunks(tenant, rows, generation);
      if (fast !== undefined) return fast;
      const vectors = new TenantVectors(this.options.dimension, rows, generation);
      for (const [rowid, embedding] of this.statements.vectors.iterate(tenant)) {
        vectors.set(Number(rowid), embedding);
      }
      return vectors;
    });
  }

  /**
   * Reads the tenant's vectors from sqlite-vec's own tables, a chunk of rows at a time (each chunk's
   * validity bitmap, rowids and vectors as three blobs), some ten times faster than through vec0,
   * which returns one row at a time: about 0.1 s against 1.1 s for 100k vectors at dimension 384.
   * Undefined when the tables are not laid out as sqlite-vec 0.1 lays them out, when what they hold
   * is not the tenant's `rows` rows, or when sampled rows are not what vec0 returns for them: the
   * caller then reads through vec0.
   */
  private loadChunks(tenant: string, rows: number, generation: number): TenantVectors | undefined {
    if (this.chunks === undefined) {
      const c = this.options.collection;
      try {
        // The layout read here is sqlite-vec 0.1's.
        const version = this.db.prepare<[], string>('SELECT vec_version()').pluck().get();
        if (!version?.startsWith('v0.1.')) throw new Error(`sqlite-vec ${version}`);
        this.chunks = this.db
          .prepare<[string], [number, Buffer, Buffer, Buffer]>(
            `SELECT c.size, c.validity, c.rowids, v.vectors FROM "${c}__vec_chunks" c ` +
              `JOIN "${c}__vec_vector_chunks00" v ON v.rowid = c.chunk_id WHERE c.partition00 = ?`,
          )
          .raw();
      } catch {
        this.chunks = null;
      }
    }
    if (this.chunks === null) return undefined;
    const dimension = this.options.dimension;
    const vectors = new TenantVectors(dimension, rows, generation);
    for (const [size, validity, rowids, blob] of this.chunks.iterate(tenant)) {
      if (
        !Number.isSafeInteger(size) ||
        validity.byteLength * 8 < size ||
        rowids.byteLength !== size * 8 ||
        blob.byteLength !== size * dimension * 4
      ) {
        return undefined;
      }
      for (let slot = 0; slot < size; slot++) {
        if ((validity[slot >> 3]! & (1 << (slot & 7))) === 0) continue;
        const rowid = Number(rowids.readBigInt64LE(slot * 8));
        vectors.set(rowid, blob.subarray(slot * dimension * 4, (slot + 1) * dimension * 4));
      }
    }
    if (vectors.count !== rows) return undefined;
    // Rows read through vec0 must be the same bytes: a format read wrongly would not be.
    for (const rowid of vectors.sampleRowids()) {
      const stored = this.statements.vector.get(BigInt(rowid), tenant);
      if (stored === undefined || !stored.equals(vectors.vectorOf(rowid)!)) return undefined;
    }
    return vectors;
  }

  /**
   * Brings cached vectors to `generation` through the change log; false when it does not cover the
   * gap, or when the vectors can no longer grow.
   */
  private follow(tenant: string, vectors: TenantVectors, generation: number): boolean {
    if (generation < vectors.generation) return false;
    let rows: Array<[number, number]>;
    try {
      this.changes ??= this.db
        .prepare<[string, number, number], [number, number]>(
          `SELECT generation, chunk FROM "${this.options.collection}__lexical_log" ` +
            'WHERE tenant = ? AND generation > ? AND generation <= ?',
        )
        .raw();
      rows = this.changes.all(tenant, vectors.generation, generation);
    } catch {
      // A file written before the log: read the tenant again.
      return false;
    }
    // Every write logs at least one row: a generation without rows was written without the log.
    if (new Set(rows.map(([at]) => at)).size !== generation - vectors.generation) return false;
    if (rows.length > Math.max(FOLLOWED_ROWS_MIN, vectors.count / 4)) return false;
    const followed = this.fitting(() => {
      for (const [, rowid] of rows) {
        const embedding = this.statements.vector.get(BigInt(rowid), tenant);
        if (embedding === undefined) vectors.delete(rowid);
        else vectors.set(rowid, embedding);
      }
      return vectors;
    });
    if (followed === undefined) return false;
    vectors.generation = generation;
    return true;
  }

  /**
   * Runs work that allocates a tenant's memory: undefined when the memory is beyond what one tenant
   * may have or than the runtime gives (a RangeError), so that the tenant is left to sqlite-vec.
   */
  private fitting(work: () => TenantVectors): TenantVectors | undefined {
    let vectors: TenantVectors;
    try {
      vectors = work();
    } catch (error) {
      if (error instanceof RangeError) return undefined;
      throw error;
    }
    return vectors.bytes > MAX_TENANT_BYTES ? undefined : vectors;
  }

  /**
   * Evicts the least recently searched tenants until `bytes` more fit the budget and one more tenant
   * fits the count; false when the bytes never can.
   */
  private makeRoom(bytes: number): boolean {
    if (bytes > Math.min(this.options.budgetBytes, MAX_TENANT_BYTES)) return false;
    for (const [tenant, vectors] of this.tenants) {
      if (this.heldBytes + bytes <= this.options.budgetBytes && this.tenants.size < MAX_TENANTS) break;
      this.tenants.delete(tenant);
      this.heldBytes -= vectors.bytes;
    }
    return true;
  }
}
