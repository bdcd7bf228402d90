/**
 * The language of a question, and its function words, for the answerer and the reranker. Lists
 * come from maintained packages: `stopword` (62 languages, short lists that keep content words) and,
 * for Chinese and Japanese, `stopwords-iso`, whose lists also hold the interrogatives (什么, 多少,
 * 何, いつ) that `stopword`'s CJK lists lack. The embedder keeps its own frozen English list
 * (`stopwords.ts`): its vectors are stored, so its words must not change under stored documents.
 */
import { createRequire } from 'node:module';
import { ENGLISH_STOPWORDS } from './stopwords.js';

const require = createRequire(import.meta.url);
const stopword = require('stopword') as Record<string, unknown>;
const iso = require('stopwords-iso') as Record<string, string[]>;

function list(code: string): string[] {
  const words = stopword[code];
  return Array.isArray(words) ? (words as string[]) : [];
}

/** Languages told apart by their function words when a text is written in Latin letters. */
const LATIN: Record<string, string> = {
  en: 'eng',
  de: 'deu',
  fr: 'fra',
  es: 'spa',
  it: 'ita',
  pt: 'por',
  nl: 'nld',
  sv: 'swe',
  da: 'dan',
  nb: 'nob',
  pl: 'pol',
  tr: 'tur',
};

const cache = new Map<string, ReadonlySet<string>>();

/** Function words of `language` (BCP 47 primary tag), lower-cased and NFKC-normalised; empty when none are known. */
export function stopwordsOf(language: string): ReadonlySet<string> {
  let set = cache.get(language);
  if (set === undefined) {
    const words =
      language === 'zh' || language === 'ja'
        ? [...(iso[language] ?? []), ...list(language === 'zh' ? 'zho' : 'jpn')]
        : language === 'ar'
          ? list('ara')
          : language === 'ru'
            ? list('rus')
            : language === 'ko'
              ? list('kor')
              : language === 'en'
                ? // `stopword`'s English list lacks interrogatives ("when"); the embedder's list has them.
                  [...list('eng'), ...ENGLISH_STOPWORDS]
                : list(LATIN[language] ?? '');
    set = new Set(words.map((w) => w.normalize('NFKC').toLowerCase()));
    cache.set(language, set);
  }
  return set;
}

const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/u;
const HAN = /\p{Script=Han}/u;
const HANGUL = /\p{Script=Hangul}/u;
const ARABIC = /\p{Script=Arabic}/u;
const CYRILLIC = /\p{Script=Cyrillic}/u;
const WORDS = /[\p{L}\p{M}]+/gu;

/**
 * The language of `text`, as a BCP 47 primary tag: by script for Japanese (any kana), Chinese (Han
 * without kana), Korean, Arabic and Russian; for Latin letters, the language whose function words
 * it uses most (English on a tie).
 */
export function detectLanguage(text: string): string {
  if (KANA.test(text)) return 'ja';
  if (HAN.test(text)) return 'zh';
  if (HANGUL.test(text)) return 'ko';
  if (ARABIC.test(text)) return 'ar';
  if (CYRILLIC.test(text)) return 'ru';
  const words = text.normalize('NFKC').toLowerCase().match(WORDS) ?? [];
  let best = 'en';
  let bestHits = 0;
  for (const language of Object.keys(LATIN)) {
    const stop = stopwordsOf(language);
    const hits = words.filter((w) => stop.has(w)).length;
    if (hits > bestHits) {
      best = language;
      bestHits = hits;
    }
  }
  return best;
}

/** Whether `language` is written without spaces between words (segmented with `Intl.Segmenter`). */
export function isUnspaced(language: string): boolean {
  return language === 'zh' || language === 'ja';
}
