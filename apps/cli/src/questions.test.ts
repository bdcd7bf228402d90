import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import { parseQuestions, questionFormatOf, readQuestionsFile } from './questions.js';

describe('parseQuestions', () => {
  it('reads one question per line of text, skipping blank lines', () => {
    expect(parseQuestions('What is A?\r\n\n  What is B?  \n', 'txt', 'q.txt')).toEqual([
      { question: 'What is A?' },
      { question: 'What is B?' },
    ]);
  });

  it('reads JSON Lines, keeping ids (numbers too) and ignoring other fields', () => {
    const text =
      '{"question":"What is A?","id":"a","expected":"A"}\n\n{"question":"What is B?","id":7}\n{"question":"C?"}\n';
    expect(parseQuestions(text, 'jsonl', 'q.jsonl')).toEqual([
      { question: 'What is A?', id: 'a' },
      { question: 'What is B?', id: '7' },
      { question: 'C?' },
    ]);
  });

  it('names the JSON Lines line that is wrong', () => {
    expect(() => parseQuestions('{"question":"A?"}\n{oops', 'jsonl', 'q.jsonl')).toThrow(
      'q.jsonl:2: not valid JSON',
    );
    expect(() => parseQuestions('{"question":"A?"}\n{"question":""}', 'jsonl', 'q.jsonl')).toThrow(
      /q\.jsonl:2: question: question must not be empty/,
    );
    expect(() => parseQuestions('["A?"]', 'jsonl', 'q.jsonl')).toThrow(/q\.jsonl:1: expected an object/);
  });

  it('reads CSV with a question column and an optional id column, in any case and order', () => {
    const text = 'ID,Question,notes\nq1,"What is A, really?",x\n,What is B?,\n';
    expect(parseQuestions(text, 'csv', 'q.csv')).toEqual([
      { question: 'What is A, really?', id: 'q1' },
      { question: 'What is B?' },
    ]);
  });

  it('names what is wrong with a CSV file', () => {
    expect(() => parseQuestions('text\nWhat?\n', 'csv', 'q.csv')).toThrow(
      /header row needs a "question" column/,
    );
    expect(() => parseQuestions('question\nA?\n""\n', 'csv', 'q.csv')).toThrow(/q\.csv: row 3: question/);
  });

  it('refuses an empty file and ids used twice', () => {
    expect(() => parseQuestions('\n\n', 'txt', 'q.txt')).toThrow('q.txt holds no questions');
    expect(() =>
      parseQuestions('{"question":"A?","id":"x"}\n{"question":"B?","id":"x"}', 'jsonl', 'q.jsonl'),
    ).toThrow(/id "x" is used twice/);
  });
});

describe('readQuestionsFile', () => {
  it('picks the format from the extension, and asks for --format when it cannot', async () => {
    const tmp = await makeTempDir('cli-questions');
    try {
      await writeFile(join(tmp.path, 'q.csv'), '\uFEFFquestion\nWhat is A?\n');
      expect(await readQuestionsFile(join(tmp.path, 'q.csv'))).toEqual([{ question: 'What is A?' }]);
      await writeFile(join(tmp.path, 'q.dat'), 'What is A?\n');
      await expect(readQuestionsFile(join(tmp.path, 'q.dat'))).rejects.toThrow(/pass --format/);
      expect(await readQuestionsFile(join(tmp.path, 'q.dat'), 'txt')).toEqual([{ question: 'What is A?' }]);
      await expect(readQuestionsFile(join(tmp.path, 'none.txt'))).rejects.toThrow(
        /cannot read the questions file/,
      );
    } finally {
      await tmp.cleanup();
    }
  });

  it('knows the extensions', () => {
    expect(questionFormatOf('a.TXT')).toBe('txt');
    expect(questionFormatOf('a.ndjson')).toBe('jsonl');
    expect(questionFormatOf('a.csv')).toBe('csv');
    expect(questionFormatOf('a.json')).toBeUndefined();
  });
});
