import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBeirSet } from './beir.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quire-beir-'));
  await mkdir(join(dir, 'qrels'));
  await writeFile(
    join(dir, 'corpus.jsonl'),
    '{"_id":"d1","title":"Lamp","text":"The lamp burns oil."}\n{"_id":2,"text":"Fog horn."}\n',
  );
  await writeFile(join(dir, 'queries.jsonl'), '{"_id":"q1","text":"What does the lamp burn?"}\n\n');
  await writeFile(join(dir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\n');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readBeirSet', () => {
  it('reads corpus, queries, qrels and answers', async () => {
    await writeFile(join(dir, 'answers.jsonl'), '{"_id":"q1","answers":["oil"]}\n');
    expect(await readBeirSet(dir, { split: 'test', corpus: true })).toEqual({
      corpus: [
        { id: 'd1', title: 'Lamp', text: 'The lamp burns oil.' },
        { id: '2', text: 'Fog horn.' },
      ],
      queries: [{ id: 'q1', text: 'What does the lamp burn?' }],
      qrels: [{ queryId: 'q1', documentId: 'd1', grade: 1 }],
      answers: [{ queryId: 'q1', answers: ['oil'] }],
    });
  });

  it('leaves the corpus unread when asked, and answers out when there are none', async () => {
    const set = await readBeirSet(dir, { split: 'test', corpus: false });
    expect(set.corpus).toBeUndefined();
    expect(set.answers).toBeUndefined();
  });

  it('names the file and line of a bad row, and a missing split', async () => {
    await writeFile(join(dir, 'queries.jsonl'), '{"_id":"q1","text":"ok"}\n{"_id":"q2"}\n');
    await expect(readBeirSet(dir, { split: 'test', corpus: true })).rejects.toThrow(/queries\.jsonl:2: text/);
    await writeFile(join(dir, 'queries.jsonl'), '{"_id":"q1","text":"ok"}\n');
    await writeFile(join(dir, 'qrels', 'test.tsv'), 'q1 d1 1\n');
    await expect(readBeirSet(dir, { split: 'test', corpus: true })).rejects.toThrow(/test\.tsv:1: expected/);
    await expect(readBeirSet(dir, { split: 'dev', corpus: true })).rejects.toThrow(/dev\.tsv is missing/);
  });
});
