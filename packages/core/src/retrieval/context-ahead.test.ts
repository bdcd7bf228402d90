import { formatPassage } from '@quire/api-client';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { rankedPassage } from './__tests__/fakes.js';

// The chunker's counts, watched: which texts are counted, and when.
const counted = vi.hoisted(() => ({ texts: [] as string[], onCount: undefined as (() => void) | undefined }));
vi.mock('../chunker/index.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../chunker/index.js')>();
  return {
    ...original,
    countTokens: (text: string) => {
      counted.texts.push(text);
      counted.onCount?.();
      return original.countTokens(text);
    },
  };
});

const { buildContext, countPassagesAhead } = await import('./context.js');
const { countTokens } = await import('../chunker/index.js');

let serial = 0;
/** Passages whose texts no other test has counted. */
function freshPassages(count: number) {
  serial++;
  return Array.from({ length: count }, (_, i) =>
    rankedPassage(
      {
        documentId: `d${serial}-${i}`,
        text: `Passage ${serial}.${i}:  the reactor\nwas commissioned in ${1970 + i} after six years.`,
        sourceName: `report-${i}.pdf`,
        pageStart: i + 1,
      },
      i + 1,
    ),
  );
}

const lineText = (text: string) => ` ${text.replace(/\s+/g, ' ').trim()}`;

describe('countPassagesAhead', () => {
  beforeEach(() => {
    counted.texts = [];
    counted.onCount = undefined;
  });

  it('counts every passage new to it while the call it waits for is out, and buildContext then counts only the heads', async () => {
    const passages = freshPassages(5);
    await countPassagesAhead(passages, new Promise(() => {}));
    expect(counted.texts).toEqual(passages.map((p) => lineText(p.record.text)));

    counted.texts = [];
    const context = buildContext(passages, { tokenBudget: 100_000 });
    expect(context.passages).toHaveLength(5);
    // Heads only: each text's count came from what was counted ahead.
    expect(counted.texts).toEqual(
      context.passages.map((p) => formatPassage({ text: '', source: p.source }, p.number).slice(0, -1)),
    );
    expect(context.tokens).toBe(countTokens(context.text));
  });

  it('counts nothing when the call has already settled, rejected ones included', async () => {
    const passages = freshPassages(3);
    await countPassagesAhead(passages, Promise.resolve());
    const failed = Promise.reject(new Error('rerank failed'));
    failed.catch(() => {});
    await countPassagesAhead(passages, failed);
    expect(counted.texts).toEqual([]);
  });

  it('stops within one passage of the call settling', async () => {
    const passages = freshPassages(6);
    let answer!: () => void;
    const pending = new Promise<void>((resolve) => {
      answer = resolve;
    });
    counted.onCount = () => answer();
    await countPassagesAhead(passages, pending);
    expect(counted.texts).toEqual([lineText(passages[0]!.record.text)]);
  });

  it('skips passages counted before, and never rejects', async () => {
    const passages = freshPassages(3);
    await countPassagesAhead(passages.slice(0, 2), new Promise(() => {}));
    counted.texts = [];
    await countPassagesAhead(passages, new Promise(() => {}));
    expect(counted.texts).toEqual([lineText(passages[2]!.record.text)]);

    const broken = [{ record: { text: undefined as unknown as string } }];
    await expect(countPassagesAhead(broken, new Promise(() => {}))).resolves.toBeUndefined();
  });
});
