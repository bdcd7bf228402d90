import { makeJson } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import { extractJson, flatten, JSON_RECORDS_PER_SECTION } from './json-loader.js';

describe('extractJson', () => {
  it('puts plain values first and gives nested keys sections of their own', () => {
    const doc = extractJson(makeJson(), 'inventory.json', 'application/json');
    expect(doc.sections.map((section) => [section.headingPath, section.text])).toEqual([
      [[], 'name: Lighthouse inventory\nversion: 3'],
      [['keeper'], 'keeper.name: Ada\nkeeper.shift.start: 18:00\nkeeper.shift.end: 06:00'],
      [['lamps'], 'id: L1; watts: 1000; tags: primary, rotating\nid: L2; watts: 500; spare: true'],
    ]);
  });

  it('writes one line per record of a top-level array, in sections', () => {
    const records = Array.from({ length: JSON_RECORDS_PER_SECTION + 1 }, (_, index) => ({
      n: index,
      tags: [],
    }));
    const doc = extractJson(JSON.stringify(records), 'r.json', 'application/json');
    expect(doc.sections).toHaveLength(2);
    expect(doc.sections[1]?.text).toBe(`n: ${JSON_RECORDS_PER_SECTION}`);
  });

  it('reads JSON Lines and names the bad line', () => {
    expect(extractJson('{"a":1}\n\n"two"\n', 'e.jsonl', 'application/jsonl').text).toBe('a: 1\ntwo');
    expect(() => extractJson('{"a":1}\n{oops}\n', 'e.jsonl', 'application/jsonl')).toThrow(
      expect.objectContaining({ code: 'corrupt', message: expect.stringContaining('line 2') }),
    );
  });

  it('fails on invalid JSON and on JSON without values', () => {
    expect(() => extractJson('{"a": ', 'b.json', 'application/json')).toThrow(
      expect.objectContaining({
        code: 'corrupt',
        message: expect.stringMatching(/^"b\.json": is not valid JSON/),
      }),
    );
    expect(() => extractJson('{"a": null, "b": [], "c": {}}', 'e.json', 'application/json')).toThrow(
      expect.objectContaining({ code: 'no_text' }),
    );
  });

  it('reads a top-level scalar', () => {
    expect(extractJson('"just text"', 's.json', 'application/json').text).toBe('just text');
  });
});

describe('flatten', () => {
  it('dots paths through objects and arrays of objects', () => {
    expect(flatten({ a: { b: [{ c: 1 }, { c: 2 }], d: ['x', null, 'y'] }, e: '' }, '')).toEqual([
      'a.b.0.c: 1',
      'a.b.1.c: 2',
      'a.d: x, y',
    ]);
  });
});
