import type { Section } from './types.js';

/** What separates two sections in `LoadedDocument.text`. */
export const SECTION_SEPARATOR = '\n\n';

/**
 * Collects sections and keeps their offsets exact: `text.slice(s.start, s.start + s.text.length)`
 * is always `s.text`. Empty pieces are dropped, so the joined text never has runs of separators.
 */
export class SectionBuilder {
  readonly #sections: Section[] = [];
  #length = 0;

  add(text: string, page: number | null, headingPath: readonly string[]): void {
    const trimmed = text.trim();
    if (trimmed === '') return;
    const start = this.#sections.length === 0 ? 0 : this.#length + SECTION_SEPARATOR.length;
    this.#sections.push({ text: trimmed, page, headingPath: [...headingPath], start });
    this.#length = start + trimmed.length;
  }

  /** Length the joined text has so far. */
  get length(): number {
    return this.#length;
  }

  get isEmpty(): boolean {
    return this.#sections.length === 0;
  }

  build(): { text: string; sections: Section[] } {
    return {
      text: this.#sections.map((section) => section.text).join(SECTION_SEPARATOR),
      sections: this.#sections,
    };
  }
}

// C0/C1 controls other than tab and newline carry no text; form feeds are handled by callers first.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Tidies extracted text: LF line ends, no control characters, no trailing spaces, at most one
 * blank line in a row, no leading or trailing blank lines. Tabs inside lines are kept (they often
 * separate columns).
 */
export function tidyText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL_CHARS, '')
    .replace(/[ \t\u00a0]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\s+$/g, '');
}

/** Collapses every run of whitespace (including newlines) to one space. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
