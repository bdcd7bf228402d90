/** Identical content under two document ids: found at ingest against a real SQLite store, collapsed at retrieval. */
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '@quire/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  collapseDuplicatePassages,
  contentKey,
  findDuplicateDocuments,
  sampleChunks,
} from '../src/duplicates/index.js';
import { type ChunkInput, CountingModels, embedChunks, TENANT } from '../src/retrieval/__tests__/fakes.js';
import { retrieveCandidates } from '../src/retrieval/retrieve.js';
import { SqliteVectorStore } from '../src/vector-store/sqlite.js';
import type { ChunkPoint } from '../src/vector-store/types.js';

const MANUAL = [
  'The harbour lamp burns paraffin and is trimmed every evening at dusk.',
  'The fog bell is rung twice a minute while the fog lasts, by hand if the clockwork fails.',
  'Visitors sign the logbook in the keeper’s room before climbing the tower stairs.',
  'The lens is cleaned with spirit on Mondays and covered with linen during the day.',
];
const OTHER = [
  'The ferry to the island leaves at seven in the morning and returns at noon.',
  'Tickets for the ferry are sold at the harbour office, cash only.',
];

/** The chunks of one document as the pipeline stores them. */
function asChunks(documentId: string, texts: readonly string[], tenant = TENANT): ChunkInput[] {
  return texts.map((text, chunkIndex) => ({ documentId, text, chunkIndex, tenant }));
}

/** embedChunks gives chunkCount = index + 1; a stored document has one count for all its chunks. */
function whole(points: ChunkPoint[]): ChunkPoint[] {
  return points.map((p) => ({ ...p, chunkCount: points.length }));
}

describe('duplicate content', () => {
  let tmp: TempDir;
  let store: SqliteVectorStore;
  const models = new CountingModels();

  beforeEach(async () => {
    tmp = await makeTempDir('duplicates');
    store = new SqliteVectorStore({ path: join(tmp.path, 'store.db'), dimension: 64 });
    await store.init();
    await store.upsert(TENANT, whole(await embedChunks(models.inner, asChunks('manual-2024', MANUAL))));
    await store.upsert(TENANT, whole(await embedChunks(models.inner, asChunks('ferry', OTHER))));
  });
  afterEach(async () => {
    await store.close();
    await tmp.cleanup();
  });

  it('finds the document a new one copies, and only that one', async () => {
    const copy = MANUAL.map((text, index) => ({ index, text: text.replace(/ /g, '  ') }));
    const found = await findDuplicateDocuments({
      store,
      tenant: TENANT,
      documentId: 'manual-copy',
      chunks: copy,
    });
    expect(found).toEqual(['manual-2024']);
    // Re-ingesting the same id is not a duplicate of itself.
    expect(
      await findDuplicateDocuments({ store, tenant: TENANT, documentId: 'manual-2024', chunks: copy }),
    ).toEqual([]);
  });

  it('does not report a document that shares some passages or another tenant’s copy', async () => {
    const partial = [...MANUAL.slice(0, 3), 'A different last page about the lighthouse cat.'].map(
      (text, index) => ({ index, text }),
    );
    expect(
      await findDuplicateDocuments({ store, tenant: TENANT, documentId: 'partial', chunks: partial }),
    ).toEqual([]);
    const longer = [...MANUAL, 'An appendix.'].map((text, index) => ({ index, text }));
    expect(
      await findDuplicateDocuments({ store, tenant: TENANT, documentId: 'longer', chunks: longer }),
    ).toEqual([]);
    await store.upsert('other', whole(await embedChunks(models.inner, asChunks('theirs', MANUAL, 'other'))));
    const found = await findDuplicateDocuments({
      store,
      tenant: 'other',
      documentId: 'mine',
      chunks: MANUAL.map((text, index) => ({ index, text })),
    });
    expect(found).toEqual(['theirs']);
  });

  it('collapses the copies at retrieval, so other passages keep their places', async () => {
    const question = 'When is the fog bell rung and the lamp trimmed?';
    const before = await retrieveCandidates({
      store,
      models,
      embeddingModel: 'embed',
      tenant: TENANT,
      question,
      candidates: 4,
    });
    expect(before.duplicatesCollapsed).toBe(0);

    await store.upsert(TENANT, whole(await embedChunks(models.inner, asChunks('manual-copy', MANUAL))));
    const after = await retrieveCandidates({
      store,
      models,
      embeddingModel: 'embed',
      tenant: TENANT,
      question,
      candidates: 4,
    });
    const keys = after.candidates.map((c) => contentKey(c.record.text));
    expect(new Set(keys).size).toBe(keys.length);
    expect(after.candidates).toHaveLength(4);
    expect(after.duplicatesCollapsed).toBeGreaterThan(0);
    // The same passages as before the copy came, whichever document each is read from.
    expect(after.candidates.map((c) => c.record.text).sort()).toEqual(
      before.candidates.map((c) => c.record.text).sort(),
    );
  });
});

describe('duplicate helpers', () => {
  it('treats texts that differ only in white space as the same content', () => {
    expect(contentKey('a  b\n c ')).toBe(contentKey('a b c'));
    expect(contentKey('a b c')).not.toBe(contentKey('a b C'));
  });

  it('samples the first, the last and evenly spaced chunks, each once', () => {
    const chunks = Array.from({ length: 10 }, (_, index) => ({ index, text: String(index) }));
    expect(sampleChunks(chunks, 3).map((c) => c.index)).toEqual([0, 5, 9]);
    expect(sampleChunks(chunks.slice(0, 2), 3).map((c) => c.index)).toEqual([0, 1]);
    expect(sampleChunks([], 3)).toEqual([]);
  });

  it('keeps the best ranked of passages with the same text, in order', () => {
    const ranked = ['x', 'y', 'x ', 'z', 'y'].map((text, i) => ({ record: { text }, i }));
    const { kept, collapsed } = collapseDuplicatePassages(ranked);
    expect(kept.map((k) => k.i)).toEqual([0, 1, 3]);
    expect(collapsed).toBe(2);
  });

  it('tells long passages apart where they differ late, and collapses them where only white space differs', () => {
    const start = 'The harbour lamp burns paraffin. '.repeat(12);
    const texts = [
      `${start}It is trimmed at dusk.`,
      `${start}It is trimmed at dawn.`,
      `${start.replace(/ /g, '\n  ')}It is\ttrimmed at dusk. `,
      `${start}It is trimmed at dusk!`,
    ];
    const { kept, collapsed } = collapseDuplicatePassages(texts.map((text, i) => ({ record: { text }, i })));
    expect(kept.map((k) => k.i)).toEqual([0, 1, 3]);
    expect(collapsed).toBe(1);
  });

  it('collapses exactly the passages whose content keys are equal', () => {
    // White space of every kind and NFKC forms (ligature, full-width letters, composed accents).
    const texts = [
      'fine  print',
      'ﬁne print',
      'fine\tprint ',
      'fine\u00a0print',
      'ｆｉｎｅ print',
      'fine print.',
      'café',
      'cafe\u0301',
      '  café\n',
      'fine\u2028print',
      'fineprint',
      // NFKC makes a spacing diaeresis a space and a combining one.
      'x\u00a8y',
      'x  \u0308y',
      '\ufeffx \u0308y\u3000',
    ];
    const ranked = texts.map((text, i) => ({ record: { text }, i }));
    const firstOfKey = new Map<string, number>();
    for (const item of ranked) {
      const key = contentKey(item.record.text);
      if (!firstOfKey.has(key)) firstOfKey.set(key, item.i);
    }
    const { kept, collapsed } = collapseDuplicatePassages(ranked);
    expect(kept.map((k) => k.i)).toEqual([...firstOfKey.values()]);
    expect(kept.map((k) => k.i)).toEqual([0, 5, 6, 10, 11]);
    expect(collapsed).toBe(texts.length - 5);
  });

  it('collapses exactly by content key whatever forms long passages take around where their fingerprints are cut', () => {
    // Pieces with equal forms under NFKC and white-space folding, strung into texts of 300–700
    // characters, some sparse enough that their 128th character outside white space comes late.
    const forms = [
      [' ', '\u00a0', '  ', '\n', '\u3000', '\t '],
      ['é', 'e\u0301'],
      ['fi', 'ﬁ'],
      ['A', 'Ａ'],
      ['가', '\u1100\u1161'],
      ['ö', 'o\u0308'],
      ['x\u00a8', 'x \u0308'],
    ];
    let seed = 7;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const ranked: { record: { text: string }; i: number }[] = [];
    for (let group = 0; group < 400; group++) {
      // A text as a list of choices: a form class (or a plain ASCII letter) per position.
      const sparse = random(3) === 0;
      const length = 120 + random(200);
      const picks = Array.from({ length }, () =>
        random(sparse ? 2 : 5) === 0 ? -1 - random(forms.length) : random(26),
      );
      const variants = 2 + random(3);
      for (let v = 0; v < variants; v++) {
        const mutated = random(4) === 0 ? random(length) : -1;
        let text = '';
        picks.forEach((pick, at) => {
          if (pick >= 0) text += String.fromCharCode(97 + (at === mutated ? (pick + 1) % 26 : pick));
          else {
            const options = forms[-1 - pick]!;
            text += options[random(options.length)]!;
          }
        });
        ranked.push({ record: { text }, i: ranked.length });
      }
    }
    // And a character made of two whose halves straddle the first cut, as the 128th character
    // outside white space: 127 letters, each with two spaces, then two spaces more.
    const sparseStart = 'q  '.repeat(127) + '  ';
    for (const [composed, parts] of [
      ['é', 'e\u0301'],
      ['가', '\u1100\u1161'],
    ]) {
      for (const text of [`${sparseStart}${parts} tail`, `${sparseStart}${composed} tail`]) {
        ranked.push({ record: { text }, i: ranked.length });
      }
    }
    const firstOfKey = new Map<string, number>();
    for (const item of ranked) {
      const key = contentKey(item.record.text);
      if (!firstOfKey.has(key)) firstOfKey.set(key, item.i);
    }
    const { kept } = collapseDuplicatePassages(ranked);
    expect(kept.map((k) => k.i)).toEqual([...firstOfKey.values()]);
    // Both outcomes occur: copies collapsed, and near-copies kept.
    expect(firstOfKey.size).toBeGreaterThan(400);
    expect(firstOfKey.size).toBeLessThan(ranked.length);
  });
});
