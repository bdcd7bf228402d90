import { collapseWhitespace, SectionBuilder, tidyText } from './section-builder.js';

/**
 * The little of the DOM this module reads. linkedom implements it; typing it here keeps the
 * package free of the DOM lib (this is server code).
 */
export interface DomNode {
  readonly nodeType: number;
  readonly childNodes: ArrayLike<DomNode>;
  readonly textContent: string | null;
  readonly parentNode: DomNode | null;
}

export interface DomElement extends DomNode {
  readonly localName: string;
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
  querySelector(selector: string): DomElement | null;
}

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;

/** Never text: code, styling, embedded objects, form controls. */
const NEVER_TEXT = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'canvas',
  'iframe',
  'object',
  'embed',
  'video',
  'audio',
  'picture',
  'source',
  'map',
  'button',
  'select',
  'input',
  'textarea',
  'head',
  'link',
  'meta',
]);

/** Page furniture rather than content, when the page itself is walked (not an extracted article). */
const BOILERPLATE = new Set(['nav', 'aside', 'form', 'dialog', 'menu']);
/** Site headers and footers; inside an article or main element they belong to the content. */
const PAGE_FURNITURE = new Set(['header', 'footer']);
const BOILERPLATE_ROLES = new Set([
  'navigation',
  'banner',
  'contentinfo',
  'complementary',
  'search',
  'menu',
  'menubar',
]);

const BLOCKS = new Set([
  'address',
  'article',
  'blockquote',
  'body',
  'caption',
  'center',
  'dd',
  'details',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'header',
  'hgroup',
  'hr',
  'html',
  'legend',
  'li',
  'main',
  'p',
  'section',
  'summary',
]);

const HEADING = /^h([1-6])$/;

export interface HtmlSectionsOptions {
  /** Drop navigation, asides, forms and site headers/footers while walking. */
  stripBoilerplate: boolean;
}

export interface HtmlSections {
  text: string;
  sections: ReturnType<SectionBuilder['build']>['sections'];
  /** Text of the first heading of the highest level met, a fallback title. */
  firstHeading: string | null;
}

/**
 * Turns an HTML element into sections: one per heading (h1–h6 give the heading path), the
 * heading's text first, then its paragraphs, lists as `- item` / `1. item` lines, tables as one
 * line per row (`header: value; header: value` when the table has a header row, cells joined by
 * ` | ` otherwise), and preformatted text as it is.
 */
export function htmlToSections(root: DomElement, options: HtmlSectionsOptions): HtmlSections {
  const walker = new HtmlWalker(options);
  walker.walk(root);
  walker.finish();
  return { ...walker.builder.build(), firstHeading: walker.firstHeading };
}

class HtmlWalker {
  readonly builder = new SectionBuilder();
  firstHeading: string | null = null;
  #firstHeadingLevel = 7;
  readonly #options: HtmlSectionsOptions;
  readonly #stack: Array<{ level: number; text: string }> = [];
  #heading: string | null = null;
  #paragraphs: string[] = [];
  #inline: string[] = [];

  constructor(options: HtmlSectionsOptions) {
    this.#options = options;
  }

  walk(node: DomNode): void {
    if (node.nodeType === TEXT_NODE) {
      this.#inline.push((node.textContent ?? '').replace(/\s+/g, ' '));
      return;
    }
    if (node.nodeType !== ELEMENT_NODE) return;
    const element = node as DomElement;
    const tag = element.localName;
    if (this.#skip(element, tag)) return;

    const heading = HEADING.exec(tag);
    if (heading?.[1] !== undefined) {
      this.#startSection(Number(heading[1]), inlineText(element));
      return;
    }
    switch (tag) {
      case 'br':
        this.#inline.push('\n');
        return;
      case 'ul':
      case 'ol':
        this.#flushInline();
        this.#addParagraph(listLines(element, 0).join('\n'));
        return;
      case 'table': {
        this.#flushInline();
        const code = codeTableBlocks(element);
        if (code === null) this.#addParagraph(tableLines(element).join('\n'));
        else for (const pre of code) this.#addParagraph(preformattedText(pre));
        return;
      }
      case 'pre':
        this.#flushInline();
        this.#addParagraph(preformattedText(element));
        return;
      case 'math':
        this.#inline.push(` ${mathText(element)} `);
        return;
      case 'img': {
        const formula = formulaFromImage(element);
        if (formula !== null) this.#inline.push(` ${formula} `);
        return;
      }
    }
    const block = BLOCKS.has(tag);
    if (block) this.#flushInline();
    for (const child of Array.from(element.childNodes)) this.walk(child);
    if (block) this.#flushInline();
  }

  finish(): void {
    this.#flushInline();
    this.#flushSection();
  }

  #skip(element: DomElement, tag: string): boolean {
    if (NEVER_TEXT.has(tag)) return true;
    if (isHidden(element, tag)) return true;
    if (!this.#options.stripBoilerplate) return false;
    if (BOILERPLATE.has(tag)) return true;
    if (BOILERPLATE_ROLES.has(element.getAttribute('role') ?? '')) return true;
    return PAGE_FURNITURE.has(tag) && !hasAncestor(element, ['article', 'main']);
  }

  #startSection(level: number, text: string): void {
    this.#flushInline();
    if (text === '') return;
    this.#flushSection();
    while ((this.#stack.at(-1)?.level ?? 0) >= level) this.#stack.pop();
    this.#stack.push({ level, text });
    this.#heading = text;
    if (level < this.#firstHeadingLevel) {
      this.#firstHeadingLevel = level;
      this.firstHeading = text;
    }
  }

  #flushInline(): void {
    if (this.#inline.length === 0) return;
    const text = this.#inline
      .join('')
      .split('\n')
      .map((line) => collapseWhitespace(line))
      .filter((line) => line !== '')
      .join('\n');
    this.#inline = [];
    this.#addParagraph(text);
  }

  #addParagraph(text: string): void {
    if (text.trim() !== '') this.#paragraphs.push(text);
  }

  #flushSection(): void {
    if (this.#paragraphs.length > 0) {
      const parts = this.#heading === null ? this.#paragraphs : [this.#heading, ...this.#paragraphs];
      this.builder.add(
        parts.join('\n\n'),
        null,
        this.#stack.map((entry) => entry.text),
      );
    }
    this.#paragraphs = [];
    this.#heading = null;
  }
}

/** Elements that end a line inside preformatted text, as highlighters and Readability leave them. */
const PRE_LINE_BLOCKS = new Set(['div', 'p', 'li', 'tr', 'table', 'ul', 'ol', 'section', 'article']);
/** Line-number gutters of highlighted code: Prism, Pygments, highlight.js plugins and others. */
const LINE_NUMBER_GUTTER =
  /(?:^|\s)(?:line-numbers-rows|linenos|linenodiv|lineno|gutter|hljs-ln-numbers|hljs-ln-n|ln-num|line-number|linenumber)(?:\s|$)/i;

/**
 * Text of a preformatted block line by line. Its text nodes keep their whitespace, and three
 * markup shapes that carry line ends outside the text are read as such: `<br>` (highlighters
 * that emit one `<span>` run per token and a `<br>` per line, as on many blogs), block elements
 * per line (`<div class="line">`; and Readability turns runs of `<br><br>` into `<p>`, which
 * marks a blank line), and line-number gutters, which are dropped. `textContent` would run
 * those lines together.
 */
export function preformattedText(pre: DomElement): string {
  const parts: string[] = [];
  const endLine = (blank: boolean): void => {
    const last = parts.at(-1);
    if (last === undefined) return;
    if (!last.endsWith('\n')) parts.push('\n');
    if (blank) parts.push('\n');
  };
  const visit = (node: DomNode): void => {
    if (node.nodeType === TEXT_NODE) {
      parts.push(node.textContent ?? '');
      return;
    }
    if (node.nodeType !== ELEMENT_NODE) return;
    const element = node as DomElement;
    const tag = element.localName;
    if (NEVER_TEXT.has(tag) || isHidden(element, tag)) return;
    if (LINE_NUMBER_GUTTER.test(element.getAttribute('class') ?? '')) return;
    if (tag === 'br') {
      parts.push('\n');
      return;
    }
    const block = PRE_LINE_BLOCKS.has(tag);
    if (block) endLine(tag === 'p');
    for (const child of Array.from(element.childNodes)) visit(child);
    if (block) endLine(false);
  };
  for (const child of Array.from(pre.childNodes)) visit(child);
  return tidyText(parts.join(''));
}

/**
 * The code blocks of a table that lays out highlighted code with a column of line numbers
 * (Pygments' `highlighttable`, many blog themes): every cell holds a `<pre>` or numbers only.
 * Null for any other table, which is read as a table.
 */
function codeTableBlocks(table: DomElement): DomElement[] | null {
  const blocks: DomElement[] = [];
  for (const row of tableRows(table)) {
    for (const cell of elementChildren(row)) {
      if (cell.localName !== 'td' && cell.localName !== 'th') continue;
      if (/^[\d\s]*$/.test(cell.textContent ?? '')) continue;
      const pre = cell.querySelector('pre');
      if (pre === null) return null;
      blocks.push(pre);
    }
  }
  return blocks.length > 0 ? blocks : null;
}

/**
 * Hidden elements are not read. Images are the exception to `aria-hidden`: formula images are
 * hidden from screen readers because a MathML twin (itself hidden from view) speaks for them.
 */
function isHidden(element: DomElement, tag: string): boolean {
  if (element.hasAttribute('hidden')) return true;
  if (tag !== 'img' && element.getAttribute('aria-hidden') === 'true') return true;
  return /display\s*:\s*none/i.test(element.getAttribute('style') ?? '');
}

/**
 * Links that decorate headings rather than name them: permalink anchors (`#`, `¶`, `§`) and
 * MediaWiki's "[edit]" links.
 */
function isHeadingWidget(element: DomElement, tag: string): boolean {
  if (/(?:^|\s)mw-editsection(?:\s|$)/.test(element.getAttribute('class') ?? '')) return true;
  return tag === 'a' && /^[#¶§🔗]$/u.test((element.textContent ?? '').trim());
}

function elementChildren(element: DomElement): DomElement[] {
  return Array.from(element.childNodes).filter(
    (child): child is DomElement => child.nodeType === ELEMENT_NODE,
  );
}

function hasAncestor(element: DomElement, tags: readonly string[]): boolean {
  for (let parent = element.parentNode; parent !== null; parent = parent.parentNode) {
    if (parent.nodeType === ELEMENT_NODE && tags.includes((parent as DomElement).localName)) return true;
  }
  return false;
}

/** All text of an element on one line, with blocks, list items and cells separated by spaces. */
function inlineText(element: DomElement, skip: ReadonlySet<string> = new Set()): string {
  const parts: string[] = [];
  const visit = (node: DomNode): void => {
    if (node.nodeType === TEXT_NODE) {
      parts.push(node.textContent ?? '');
      return;
    }
    if (node.nodeType !== ELEMENT_NODE) return;
    const child = node as DomElement;
    const tag = child.localName;
    if (NEVER_TEXT.has(tag) || skip.has(tag) || isHidden(child, tag) || isHeadingWidget(child, tag)) return;
    if (tag === 'math') {
      parts.push(` ${mathText(child)} `);
      return;
    }
    if (tag === 'img') {
      const formula = formulaFromImage(child);
      if (formula !== null) parts.push(` ${formula} `);
      return;
    }
    const spaced =
      tag !== 'a' && tag !== 'span' && tag !== 'b' && tag !== 'i' && tag !== 'em' && tag !== 'strong';
    if (spaced) parts.push(' ');
    for (const grandchild of Array.from(child.childNodes)) visit(grandchild);
    if (spaced) parts.push(' ');
  };
  for (const child of Array.from(element.childNodes)) visit(child);
  return collapseWhitespace(parts.join(''));
}

const NESTED_LISTS = new Set(['ul', 'ol']);

function listLines(list: DomElement, depth: number): string[] {
  const lines: string[] = [];
  const ordered = list.localName === 'ol';
  const start = Number.parseInt(list.getAttribute('start') ?? '1', 10);
  let number = Number.isFinite(start) ? start : 1;
  const indent = '  '.repeat(depth);
  for (const item of elementChildren(list)) {
    if (item.localName !== 'li') {
      // Stray nesting (a list directly inside a list) keeps its items.
      if (NESTED_LISTS.has(item.localName)) lines.push(...listLines(item, depth + 1));
      continue;
    }
    const text = inlineText(item, NESTED_LISTS);
    if (text !== '') lines.push(`${indent}${ordered ? `${number}.` : '-'} ${text}`);
    number++;
    for (const nested of descendantLists(item)) lines.push(...listLines(nested, depth + 1));
  }
  return lines;
}

/** Lists inside a list item, not counting lists nested in those. */
function descendantLists(element: DomElement): DomElement[] {
  const found: DomElement[] = [];
  for (const child of elementChildren(element)) {
    if (NESTED_LISTS.has(child.localName)) found.push(child);
    else found.push(...descendantLists(child));
  }
  return found;
}

function tableLines(table: DomElement): string[] {
  const rows = tableRows(table);
  if (rows.length === 0) return [];
  const cells = rows.map((row) =>
    elementChildren(row)
      .filter((cell) => cell.localName === 'td' || cell.localName === 'th')
      .map((cell) => ({ header: cell.localName === 'th', text: inlineText(cell) })),
  );
  const caption = elementChildren(table).find((child) => child.localName === 'caption');
  const lines: string[] = caption === undefined ? [] : [inlineText(caption)].filter((line) => line !== '');
  const first = cells[0] ?? [];
  const hasHeaderRow = first.length > 1 && first.every((cell) => cell.header);
  const headers = hasHeaderRow ? first.map((cell, index) => cell.text || `column ${index + 1}`) : [];
  for (const row of hasHeaderRow ? cells.slice(1) : cells) {
    if (row.every((cell) => cell.text === '')) continue;
    if (hasHeaderRow) {
      lines.push(
        row
          .map((cell, index) =>
            cell.text === '' ? '' : `${headers[index] ?? `column ${index + 1}`}: ${cell.text}`,
          )
          .filter((pair) => pair !== '')
          .join('; '),
      );
    } else if (row.length === 2 && row[0]?.header === true && row[1]?.header === false) {
      // A label/value row, as in infoboxes.
      lines.push(`${row[0].text}: ${row[1].text}`);
    } else {
      lines.push(
        row
          .map((cell) => cell.text)
          .filter((text) => text !== '')
          .join(' | '),
      );
    }
  }
  return lines;
}

/** Rows of this table, not of tables nested in its cells. */
function tableRows(table: DomElement): DomElement[] {
  const rows: DomElement[] = [];
  for (const child of elementChildren(table)) {
    if (child.localName === 'tr') rows.push(child);
    else if (child.localName === 'thead' || child.localName === 'tbody' || child.localName === 'tfoot') {
      rows.push(...elementChildren(child).filter((row) => row.localName === 'tr'));
    }
  }
  return rows;
}

/** A formula's TeX source when the MathML carries it, else its text. */
function mathText(math: DomElement): string {
  const tex = math.querySelector('annotation[encoding="application/x-tex"]');
  const source = tex?.textContent ?? math.getAttribute('alttext') ?? math.textContent ?? '';
  return collapseWhitespace(stripDisplayStyle(source));
}

/** Formulas rendered as images (as Wikipedia does) keep their TeX in the alt text. */
function formulaFromImage(image: DomElement): string | null {
  const alt = image.getAttribute('alt') ?? '';
  const isFormula =
    /\\displaystyle|\\textstyle/.test(alt) || /\bmath\b/.test(image.getAttribute('class') ?? '');
  return isFormula && alt.trim() !== '' ? collapseWhitespace(stripDisplayStyle(alt)) : null;
}

function stripDisplayStyle(tex: string): string {
  const match = tex.trim().match(/^\{\\(?:display|text)style\s*([\s\S]*)\}$/);
  return match?.[1] ?? tex;
}
