import { describe, expect, it } from 'vitest';
import { expandLatinLigatures } from './ligatures.js';

describe('expandLatinLigatures', () => {
  it('spells out each of the seven Latin ligatures', () => {
    expect(expandLatinLigatures('\uFB00 \uFB01 \uFB02 \uFB03 \uFB04 \uFB05 \uFB06')).toBe(
      'ff fi fl ffi ffl st st',
    );
    expect(expandLatinLigatures('the ﬁrst eﬃcient ﬂow')).toBe('the first efficient flow');
  });

  it('leaves other compatibility characters as they are', () => {
    expect(expandLatinLigatures('x² ½ ＡＢＣ ﬁ')).toBe('x² ½ ＡＢＣ fi');
  });
});
