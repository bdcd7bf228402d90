import { describe, expect, it } from 'vitest';
import { checkCitations, renumberCitations } from './citations.js';

describe('checkCitations', () => {
  it('reads [n], [n, m] and [n][m] citations', () => {
    expect(checkCitations('Paris [1]. Lyon [2, 3]; Nice [1][3] and Metz [2;1].', 3)).toEqual({
      text: 'Paris [1]. Lyon [2, 3]; Nice [1][3] and Metz [2;1].',
      cited: [1, 2, 3],
      removed: [],
    });
  });

  it('removes citations to missing passages and reports them', () => {
    expect(checkCitations('Paris [1]. Lyon [4]. Nice [2, 7][0] and [ 9 ].', 2)).toEqual({
      text: 'Paris [1]. Lyon. Nice [2] and.',
      cited: [1, 2],
      removed: [0, 4, 7, 9],
    });
  });

  it('leaves text without citations alone', () => {
    expect(checkCitations('  No brackets here, nor [words].  ', 2)).toEqual({
      text: 'No brackets here, nor [words].',
      cited: [],
      removed: [],
    });
  });
});

describe('renumberCitations', () => {
  it('numbers citations 1..n in order of first use, with no gaps', () => {
    expect(renumberCitations('Lyon [3]. Paris [1]. Nice [3][5] and Metz [5, 1].', 5)).toEqual({
      text: 'Lyon [1]. Paris [2]. Nice [1][3] and Metz [2, 3].',
      order: [3, 1, 5],
      removed: [],
    });
  });

  it('closes the gap a skipped passage leaves: [1], [3] become [1], [2]', () => {
    expect(renumberCitations('A [1]. B [3].', 3)).toEqual({
      text: 'A [1]. B [2].',
      order: [1, 3],
      removed: [],
    });
  });

  it('drops references to missing passages before numbering, and sorts a list', () => {
    expect(renumberCitations('A [4]. B [2; 9, 1][0]. C [2,2].', 3)).toEqual({
      text: 'A. B [1, 2]. C [1].',
      order: [2, 1],
      removed: [0, 4, 9],
    });
  });

  it('leaves an answer already in order untouched', () => {
    const answer = 'Paris [1]. Lyon [1, 2]; Nice [2][3].';
    expect(renumberCitations(answer, 3)).toEqual({ text: answer, order: [1, 2, 3], removed: [] });
  });

  it('returns no order for an answer without citations', () => {
    expect(renumberCitations('Nothing cited, [x] nor [].', 2)).toEqual({
      text: 'Nothing cited, [x] nor [].',
      order: [],
      removed: [],
    });
  });
});
