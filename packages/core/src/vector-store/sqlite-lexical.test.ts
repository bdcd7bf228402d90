import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@quire/testkit';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EVERY_TOKEN, TenantLexicalIndexes, tenantTableName, termQuery } from './sqlite-lexical.js';

const fts = tenantTableName('c', 't');
const TOKENS = ['w0', 'w1', 'w2', 'w5', 'w9', 'w30', 'w80', 'x'];

describe('TenantLexicalIndexes: cached term rows follow writes', () => {
  let dir: string;
  let writer: Database.Database;
  let reader: Database.Database;
  const random = seededRandom(5);
  // Skewed words: w0 in most rows, w80 in few; "x" is also the `every` column's token.
  const text = () =>
    Array.from({ length: 5 + Math.floor(random() * 40) }, () =>
      random() < 0.02 ? 'x' : `w${Math.floor(120 * random() ** 2.5)}`,
    ).join(' ');

  /** Every row's `terms` as written: the rows' terms a reader's indexes count followed terms in. */
  const contents = new Map<number, string>();
  const rowTerms = (tenant: string, rowid: number) => (tenant === 't' ? contents.get(rowid) : undefined);
  /** A reader's indexes with a budget for term impacts and the rows' terms at hand. */
  const readerIndexes = () => new TenantLexicalIndexes(reader, 'c', 64 * 1024 * 1024, rowTerms);

  beforeEach(() => {
    contents.clear();
    dir = mkdtempSync(join(tmpdir(), 'quire-lexical-'));
    writer = new Database(join(dir, 'a.db'));
    writer.pragma('journal_mode = WAL');
    writer.exec(`${TenantLexicalIndexes.createRegistrySql('c')}; ${TenantLexicalIndexes.createLogSql('c')}`);
    reader = new Database(join(dir, 'a.db'));
  });
  afterEach(() => {
    writer.close();
    reader.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes and deletes rows of one tenant in one transaction, as the store does; `log` false skips the log. */
  const write = (
    indexes: TenantLexicalIndexes,
    rows: Array<[number, string]>,
    deletes: number[] = [],
    log = true,
  ) =>
    writer.transaction(() => {
      const index = indexes.ensure('t');
      const generation = indexes.touch('t');
      for (const rowid of [...deletes, ...rows.map(([rowid]) => rowid)]) {
        index.delete.run(rowid);
        contents.delete(rowid);
        if (log) indexes.logChange('t', generation, rowid);
      }
      for (const [rowid, terms] of rows) {
        index.insert.run(rowid, terms, EVERY_TOKEN);
        contents.set(rowid, terms);
      }
    })();

  /** `count` rows of new text, rowids from `first` on. */
  const rows = (count: number, first = 1) =>
    Array.from({ length: count }, (_, i): [number, string] => [first + i, text()]);

  /** Every row of the term with its score, straight from FTS5. */
  const expected = (token: string) =>
    reader
      .prepare<[string], [number, number]>(
        `SELECT rowid, -bm25(${fts}, 1.0, 0.0) FROM ${fts} WHERE ${fts} MATCH ?`,
      )
      .raw()
      .all(termQuery(token));

  /** Each token's rows and scores through the reader's cache, in one read transaction. */
  const cached = (indexes: TenantLexicalIndexes, tokens: readonly string[] = TOKENS) =>
    reader.transaction(() => {
      const index = indexes.find('t')!;
      const cache = indexes.cacheOf(index);
      return tokens.map((token) => {
        const impacts = indexes.impacts(index, cache, token);
        return Array.from(impacts.rowids, (rowid, i) => [rowid, impacts.palette[impacts.codes[i]!]!]);
      });
    })();

  it('re-scores cached terms after writes from another connection, reading only the changed rows', () => {
    const writes = new TenantLexicalIndexes(writer, 'c');
    // 3,000 rows: a tenant of fewer than 1,024 reads changed terms again instead (next test).
    for (let batch = 0; batch < 6; batch++) {
      write(writes, rows(500, batch * 500 + 1));
    }
    const reads = readerIndexes();
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    const index = reads.find('t')!;
    const fullReads = vi.spyOn(index.impacts, 'all');
    const occurrenceReads = vi.spyOn(index.occurrences, 'get');
    const lookups = vi.spyOn(index.impactAt, 'get');
    for (let round = 0; round < 12; round++) {
      lookups.mockClear();
      // New rows, re-written rows (new text) and deleted rows, in one write or several.
      const fresh = Array.from({ length: 1 + (round % 4) }, (_, i): [number, string] => [
        10_000 + round * 10 + i,
        text(),
      ]);
      const rewritten = Array.from({ length: round % 3 }, (): [number, string] => [
        1 + Math.floor(random() * 3000),
        text(),
      ]);
      const deleted = round % 2 === 0 ? [1 + Math.floor(random() * 3000)] : [];
      write(writes, [...fresh, ...rewritten], deleted);
      if (round % 3 === 0) write(writes, [[20_000 + round, text()]]);
      const actual = cached(reads);
      TOKENS.forEach((token, t) => {
        // Same rows in the same order, and the very floats FTS5 computes.
        expect(actual[t], token).toEqual(expected(token));
      });
      // Counted in the changed rows' terms: FTS5 checks one row a term,
      // however many rows changed (up to 9 a round here).
      expect(lookups.mock.calls.length).toBeLessThanOrEqual(TOKENS.length);
    }
    expect(fullReads).not.toHaveBeenCalled();
    expect(occurrenceReads).not.toHaveBeenCalled();
  });

  it("fetches a changed row's terms once for every search and term, again when it changes again", () => {
    const writes = new TenantLexicalIndexes(writer, 'c');
    for (let batch = 0; batch < 4; batch++) write(writes, rows(500, batch * 500 + 1));
    const source = vi.fn(rowTerms);
    const reads = new TenantLexicalIndexes(reader, 'c', 64 * 1024 * 1024, source);
    const index = reads.find('t')!;
    const inCache = () => reader.transaction(() => reads.cacheOf(index))();
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    const before = inCache().bytes;
    write(writes, [
      [5, 'w0 w0 w1 x'],
      [6, 'w1 w2'],
    ]);
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    // Rows 5 and 6, once each, for all the terms and both searches; their strings are charged.
    expect(source.mock.calls.map(([, rowid]) => rowid).sort()).toEqual([5, 6]);
    expect(inCache().bytes).toBeGreaterThan(before);
    // Rows holding none of the cached terms change no term's arrays: the bytes grow by their terms'.
    const held = inCache().bytes;
    write(writes, [
      [9001, 'zz'],
      [9002, 'zz zz'],
    ]);
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    expect(inCache().bytes - held).toBe(2 * 2 + 64 + 5 * 2 + 64);
    write(writes, [[5, 'w0 w2 w2']]);
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    expect(source.mock.calls.map(([, rowid]) => rowid).sort((a, b) => a - b)).toEqual([5, 5, 6, 9001, 9002]);
  });

  it("reads a changed term again where FTS5's tokenizer reads the changed row otherwise", () => {
    const writes = new TenantLexicalIndexes(writer, 'c');
    // FTS5's tokenizer splits Devanagari at its vowel signs (both words are ह न द to it) and folds a
    // final sigma; counting the query's token in the rows' terms would miss the new rows. In every
    // row, so that their IDF is FTS5's floor whatever the row count: no score shows the miss.
    const words = ['हिन्दी', 'λογος'];
    write(
      writes,
      Array.from({ length: 1500 }, (_, i): [number, string] => [i + 1, `w0 ${words.join(' ')} ${text()}`]),
    );
    const reads = readerIndexes();
    expect(cached(reads, words)).toEqual(words.map(expected));
    write(writes, [
      [5001, 'हिन्दू w1'],
      [5002, 'λογοσ w1'],
    ]);
    const after = cached(reads, words);
    expect(after).toEqual(words.map(expected));
    expect(after.map((rows) => rows.some(([rowid]) => rowid === 5001 || rowid === 5002))).toEqual([
      true,
      true,
    ]);
  });

  it("without the rows' terms at hand, reads a changed term again", () => {
    const writes = new TenantLexicalIndexes(writer, 'c');
    for (let batch = 0; batch < 4; batch++) write(writes, rows(500, batch * 500 + 1));
    const reads = new TenantLexicalIndexes(reader, 'c', 64 * 1024 * 1024);
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    const index = reads.find('t')!;
    const occurrenceReads = vi.spyOn(index.occurrences, 'get');
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    expect(occurrenceReads).not.toHaveBeenCalled();
    write(writes, [[5, 'w0 w0 w1 x']], [9]);
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    // Every term but "x", which is read with bm25() (see the test before).
    expect(occurrenceReads).toHaveBeenCalledTimes(TOKENS.length - 1);
  });

  it("reads a changed term again when the rows' terms do not count it as FTS5 does", () => {
    const writes = new TenantLexicalIndexes(writer, 'c');
    for (let batch = 0; batch < 4; batch++) write(writes, rows(500, batch * 500 + 1));
    const reads = readerIndexes();
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    const index = reads.find('t')!;
    const occurrenceReads = vi.spyOn(index.occurrences, 'get');
    write(writes, [[7, 'w0 w0 w1 w1 w1']]);
    // The source now says something else than what FTS5 holds for row 7.
    contents.set(7, 'w0 w1');
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    expect(occurrenceReads.mock.calls).toEqual([['w0'], ['w1']]);
  });

  it('reads a term from its occurrences with the floats FTS5 computes, a term also in the every column with bm25()', () => {
    const writes = new TenantLexicalIndexes(writer, 'c');
    for (let batch = 0; batch < 4; batch++) {
      write(
        writes,
        rows(500, batch * 500 + 1),
        // Deleted rows stay in FTS5's N and in the index until merged: neither may reach the scores.
        batch > 0 ? Array.from({ length: 40 }, (_, i) => batch * 300 + i * 7) : [],
      );
    }
    const reads = readerIndexes();
    const index = reads.find('t')!;
    const occurrences = vi.spyOn(index.occurrences, 'get');
    const everyOccurrences = vi.spyOn(index.everyOccurrences, 'get');
    const fullReads = vi.spyOn(index.impacts, 'all');
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    // Every column's occurrences, but for "x": its every column's are left out.
    expect(occurrences).toHaveBeenCalledTimes(TOKENS.length - 1);
    expect(occurrences).not.toHaveBeenCalledWith('x');
    expect(everyOccurrences.mock.calls).toEqual([['x']]);
    // Only "x", whose rows in the every column FTS5 counts but the terms column's match leaves out.
    expect(fullReads.mock.calls).toEqual([[termQuery('x')]]);
  });

  it('in a small tenant, reads a cached term again after a write instead of following it', () => {
    const writes = new TenantLexicalIndexes(writer, 'c');
    write(writes, rows(800));
    const reads = readerIndexes();
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    const fullReads = vi.spyOn(reads.find('t')!.impacts, 'all');
    // Cached and unchanged: nothing is read.
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    expect(fullReads).not.toHaveBeenCalled();
    write(
      writes,
      [
        [5, 'w0 w0 w1'],
        [900, 'w0 w2 w2'],
      ],
      [7],
    );
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    expect(fullReads).toHaveBeenCalledTimes(TOKENS.length);
  });

  it('bounds the cache by terms and bytes: absent terms too, and nothing is kept without a budget', () => {
    const writes = new TenantLexicalIndexes(writer, 'c');
    write(writes, rows(300));
    const reads = readerIndexes();
    const index = reads.find('t')!;
    let largest = 0;
    for (let round = 0; round < 20; round++) {
      reader.transaction(() => {
        const cache = reads.cacheOf(index);
        for (let i = 0; i < 1000; i++) reads.impacts(index, cache, `absent${round}q${i}`);
        largest = Math.max(largest, cache.impacts.size);
      })();
    }
    // 20,000 terms the tenant does not hold: the cache starts afresh past 8,192 terms.
    expect(largest).toBeGreaterThan(8192);
    expect(largest).toBeLessThanOrEqual(8192 + 1000);
    const uncached = new TenantLexicalIndexes(reader, 'c', 0);
    reader.transaction(() => {
      const other = uncached.find('t')!;
      const cache = uncached.cacheOf(other);
      for (const token of [...TOKENS, 'absent']) uncached.impacts(other, cache, token);
      expect(cache.impacts.size).toBe(0);
      expect(cache.bytes).toBe(0);
    })();
  });

  it('reads terms again after a write the log does not hold', () => {
    const writes = new TenantLexicalIndexes(writer, 'c');
    write(writes, rows(800));
    const reads = readerIndexes();
    cached(reads);
    const fullReads = vi.spyOn(reads.find('t')!.impacts, 'all');
    // A writer without the log (a file written before it): the generation moves, no rows are logged.
    write(
      writes,
      [
        [5, 'w0 w0 w1'],
        [900, 'w0 w2 w2'],
      ],
      [7],
      false,
    );
    expect(cached(reads)).toEqual(TOKENS.map(expected));
    expect(fullReads).toHaveBeenCalledTimes(TOKENS.length);
  });
});
