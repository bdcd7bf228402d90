import { describe, expect, it } from 'vitest';
import { type SseEvent, SseParser } from './sse.js';

const STREAM =
  ': keep-alive comment\r\n' +
  'data: {"a":1}\r\n\r\n' +
  'event: update\n' +
  'id: 7\n' +
  'data: line one\n' +
  'data:line two\n\n' +
  'data: é漢字🙂\r\r' +
  'data: [DONE]\n\n' +
  'data: trailing without blank line';

const EXPECTED: SseEvent[] = [
  { event: 'message', data: '{"a":1}' },
  { event: 'update', data: 'line one\nline two', id: '7' },
  { event: 'message', data: 'é漢字🙂', id: '7' },
  { event: 'message', data: '[DONE]', id: '7' },
  { event: 'message', data: 'trailing without blank line', id: '7' },
];

function parseInPieces(pieces: readonly string[]): SseEvent[] {
  const parser = new SseParser();
  const events = pieces.flatMap((piece) => parser.push(piece));
  return [...events, ...parser.end()];
}

describe('SseParser', () => {
  it('parses data, multi-line data, event, id, comments and all line endings', () => {
    expect(parseInPieces([STREAM])).toEqual(EXPECTED);
  });

  it('gives the same events wherever the text is split', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      expect(parseInPieces([STREAM.slice(0, cut), STREAM.slice(cut)])).toEqual(EXPECTED);
    }
    expect(parseInPieces(Array.from(STREAM))).toEqual(EXPECTED);
  });

  it('keeps a CR LF split across chunks as one line ending', () => {
    const parser = new SseParser();
    expect(parser.push('data: x\r')).toEqual([]);
    expect(parser.push('\n\r')).toEqual([{ event: 'message', data: 'x' }]);
    expect(parser.push('\ndata: y\n\n')).toEqual([{ event: 'message', data: 'y' }]);
  });

  it('ignores blank lines without data', () => {
    expect(parseInPieces(['\n\n: only a comment\n\n'])).toEqual([]);
  });
});
