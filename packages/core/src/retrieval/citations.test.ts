import { describe, expect, it } from 'vitest';
import { checkCitations } from './citations.js';

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
