import type { ExtractedDocument } from './extracted.js';
import { SectionBuilder, tidyText } from './section-builder.js';

interface OpenSection {
  headingPath: string[];
  /** Source lines of the heading (one for ATX, two or more for setext); empty before the first heading. */
  headingLines: string[];
  body: string[];
}

interface Heading {
  level: number;
  text: string;
}

const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;
/** Lines that belong to another block and so cannot be the text of a setext heading. */
const NOT_PARAGRAPH = /^ {0,3}(?:[-*+][ \t]|\d{1,9}[.)][ \t]|>|\||#|<|`{3,}|~{3,})|^(?: {4}|\t)/;

/**
 * Markdown: one section per heading (ATX `#` and setext underlines), its heading path the titles
 * above it. Lines inside code fences are never headings. YAML (`---`) or TOML (`+++`) front
 * matter is dropped; its `title` is the document title, else the first level-1 heading is.
 * Section texts keep the Markdown source, heading line included; a heading directly followed by
 * another heading yields no section of its own (its title lives on in the heading paths below it).
 */
export function extractMarkdown(source: string): ExtractedDocument {
  const { body, title: frontMatterTitle } = splitFrontMatter(source);
  const lines = body.split('\n');
  const builder = new SectionBuilder();
  const stack: Heading[] = [];
  let firstH1: string | null = null;
  let section: OpenSection = { headingPath: [], headingLines: [], body: [] };
  let fence: { char: string; length: number } | null = null;

  const flush = (): void => {
    if (section.body.some((line) => line.trim() !== '')) {
      builder.add(tidyText([...section.headingLines, ...section.body].join('\n')), null, section.headingPath);
    }
  };
  const startSection = (heading: Heading, headingLines: string[]): void => {
    flush();
    while (stack.length > 0 && (stack.at(-1)?.level ?? 0) >= heading.level) stack.pop();
    stack.push(heading);
    if (heading.level === 1 && firstH1 === null) firstH1 = heading.text;
    section = { headingPath: stack.map((entry) => entry.text), headingLines, body: [] };
  };

  for (const line of lines) {
    if (fence !== null) {
      section.body.push(line);
      const close = line.match(FENCE_OPEN);
      if (close?.[1] !== undefined && close[1][0] === fence.char && close[1].length >= fence.length) {
        if (line.trim() === close[1]) fence = null;
      }
      continue;
    }
    const open = line.match(FENCE_OPEN);
    if (open?.[1] !== undefined) {
      fence = { char: open[1][0] ?? '`', length: open[1].length };
      section.body.push(line);
      continue;
    }
    const atx = line.match(ATX_HEADING);
    if (atx?.[1] !== undefined) {
      startSection({ level: atx[1].length, text: headingText(atx[2] ?? '') }, [line]);
      continue;
    }
    const underline = line.match(SETEXT_UNDERLINE);
    if (underline?.[1] !== undefined) {
      const paragraph = trailingParagraph(section.body);
      if (paragraph.length > 0) {
        section.body.splice(section.body.length - paragraph.length, paragraph.length);
        const level = underline[1].startsWith('=') ? 1 : 2;
        startSection({ level, text: headingText(paragraph.join(' ')) }, [...paragraph, line]);
        continue;
      }
    }
    section.body.push(line);
  }
  flush();

  const title = frontMatterTitle ?? firstH1;
  return { ...builder.build(), pageCount: null, title: title === '' ? null : title };
}

/** The paragraph lines at the end of `body`, if the last line is paragraph text. */
function trailingParagraph(body: string[]): string[] {
  let start = body.length;
  while (start > 0) {
    const line = body[start - 1] ?? '';
    if (line.trim() === '' || NOT_PARAGRAPH.test(line)) break;
    start--;
  }
  return body.slice(start);
}

/** Heading text without inline Markdown: links and images keep their text, code and emphasis marks go. */
export function headingText(raw: string): string {
  return raw
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/!?\[([^\]]*)\]\[[^\]]*\]/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/(\*\*|__|\*|_|~~)(?=\S)([^*_~]*?\S)\1/g, '$2')
    .replace(/\\([\\`*_{}[\]()#+\-.!])/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

interface FrontMatter {
  body: string;
  title: string | null;
}

const FRONT_MATTER = /^(---|\+\+\+)[ \t]*\n([\s\S]*?)\n(?:---|\.\.\.|\+\+\+)[ \t]*(?:\n|$)/;

function splitFrontMatter(source: string): FrontMatter {
  const match = source.match(FRONT_MATTER);
  if (match === null) return { body: source, title: null };
  const delimiter = match[1];
  const content = match[2] ?? '';
  // YAML closes with --- or ..., TOML with +++; a mismatch means it was not front matter.
  const closing = match[0].trimEnd().split('\n').at(-1)?.trim();
  if ((delimiter === '+++') !== (closing === '+++')) return { body: source, title: null };
  return { body: source.slice(match[0].length), title: frontMatterTitle(content) };
}

/** The `title` key of YAML (`title: x`) or TOML (`title = "x"`) front matter; other keys are ignored. */
function frontMatterTitle(content: string): string | null {
  const line = content.match(/^title[ \t]*[:=][ \t]*(.+?)[ \t]*$/m);
  const value = line?.[1];
  if (value === undefined) return null;
  const quoted = value.match(/^(["'])(.*)\1$/);
  const title = (quoted?.[2] ?? value).trim();
  return title === '' ? null : title;
}
