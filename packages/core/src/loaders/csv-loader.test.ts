import { makeCsv } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import { CSV_RECORDS_PER_SECTION, extractCsv, sniffDelimiter } from './csv-loader.js';

describe('extractCsv', () => {
  it('writes each record as column: value pairs and groups records into sections', () => {
    const doc = extractCsv(makeCsv(120).replace(/\r\n/g, '\n'), 'people.csv', 'text/csv');
    expect(doc.sections).toHaveLength(Math.ceil(120 / CSV_RECORDS_PER_SECTION));
    const lines = doc.text.split(/\n+/);
    expect(lines[0]).toBe('id: 1; name: Person 1; city: Porto; notes: note 1');
    expect(lines).toContain('id: 3; name: Person 3; city: Porto');
    expect(lines).toContain(
      'id: 7; name: Person 7; city: Porto; notes: likes tea, not coffee and long walks',
    );
  });

  it('reads TSV and semicolon files and names extra or unnamed columns', () => {
    expect(extractCsv('a\tb\n1\t2\n', 'x.tsv', 'text/tab-separated-values').text).toBe('a: 1; b: 2');
    expect(extractCsv('a;;c\n1;2;3;4\n', 'x.csv', 'text/csv').text).toBe(
      'a: 1; column 2: 2; c: 3; column 4: 4',
    );
  });

  it('fails on a header without records and on broken quoting', () => {
    expect(() => extractCsv('a,b\n', 'h.csv', 'text/csv')).toThrow(
      expect.objectContaining({ code: 'no_text' }),
    );
    expect(() => extractCsv('a,b\n1,"open\n', 'q.csv', 'text/csv')).toThrow(
      expect.objectContaining({
        code: 'corrupt',
        message: expect.stringMatching(/^"q\.csv": is not valid CSV/),
      }),
    );
  });
});

describe('sniffDelimiter', () => {
  it('picks the most frequent candidate outside quotes on the first line', () => {
    expect(sniffDelimiter('a;b;c\n1,2,3')).toBe(';');
    expect(sniffDelimiter('"x,y,z";b\n')).toBe(';');
    expect(sniffDelimiter('single')).toBe(',');
  });
});
