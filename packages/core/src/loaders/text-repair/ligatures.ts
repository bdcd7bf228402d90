/** Latin typographic ligatures: ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ (U+FB00–FB06). */
const LATIN_LIGATURES = /[\uFB00-\uFB06]/g;

/**
 * Spells Latin ligatures out as their letters ("ﬁnd" → "find"), so the word is found when searched
 * for. Only these seven characters are normalised (NFKC): applied to the whole text NFKC would also
 * fold superscripts, full-width forms, "½" and the like, which carry meaning.
 */
export function expandLatinLigatures(text: string): string {
  return text.replace(LATIN_LIGATURES, (ligature) => ligature.normalize('NFKC'));
}
