import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { parse as parseHtml5, serialize } from 'parse5';
import type { ExtractedDocument } from './extracted.js';
import { type DomElement, type HtmlSections, htmlToSections } from './html-sections.js';
import { collapseWhitespace } from './section-builder.js';

interface ParsedPage {
  document: { body: DomElement | null; documentElement: DomElement | null };
}

/**
 * When the article Readability picks holds less than this share of the page's (boilerplate-free)
 * text, it probably missed content spread over several blocks: the whole page is used instead.
 */
const MIN_ARTICLE_SHARE = 0.25;

/**
 * HTML: the main content (Mozilla Readability, the algorithm behind Firefox Reader View), walked
 * into sections by heading. Readability drops navigation, sidebars, comments and link farms that
 * a tag-based filter keeps (measured on Wikipedia pages: tags alone kept 57–97% of what they
 * extracted as content). When it finds no article, or one much shorter than the page, the page
 * is walked whole with navigation, asides, forms and site headers/footers dropped.
 */
export function extractHtml(html: string): ExtractedDocument {
  const page = parse(html);
  const title = pageTitle(page);
  const whole = walkPage(parse(html));
  const article = readArticle(page);
  const useArticle = article !== null && article.text.length >= whole.text.length * MIN_ARTICLE_SHARE;
  const chosen = useArticle ? article : whole;
  return {
    text: chosen.text,
    sections: chosen.sections,
    pageCount: null,
    title: title ?? chosen.firstHeading ?? whole.firstHeading,
  };
}

/** HTML made by a converter (DOCX): every element is content, nothing to filter. */
export function extractHtmlFragment(fragment: string): HtmlSections {
  const { document } = parse(fragment);
  const root = document.body ?? document.documentElement;
  if (root === null) return { text: '', sections: [], firstHeading: null };
  return htmlToSections(root, { stripBoilerplate: false });
}

/**
 * linkedom builds the DOM Readability needs but does not repair HTML the way browsers do (a page
 * without `<body>` ends up with its content outside the body); parse5, the HTML5 parsing
 * algorithm, rebuilds the proper tree first.
 */
function parse(html: string): ParsedPage {
  return parseHTML(serialize(parseHtml5(html))) as ParsedPage;
}

function pageTitle(page: ParsedPage): string | null {
  const title = page.document.documentElement?.querySelector('title')?.textContent;
  const text = collapseWhitespace(title ?? '');
  return text === '' ? null : text;
}

function walkPage(page: ParsedPage): HtmlSections {
  const root = page.document.body ?? page.document.documentElement;
  if (root === null) return { text: '', sections: [], firstHeading: null };
  return htmlToSections(root, { stripBoilerplate: true });
}

function readArticle(page: ParsedPage): HtmlSections | null {
  let content: DomElement | null | undefined;
  try {
    // The serializer hands back the article element itself, so it is walked without a reparse.
    const reader = new Readability<DomElement>(page.document, {
      serializer: (node) => node as DomElement,
      // Kept so that the walker can tell MediaWiki's "[edit]" links from heading text.
      classesToPreserve: ['mw-editsection'],
    });
    content = reader.parse()?.content;
  } catch {
    // Readability gives up on some malformed documents; the whole page is walked instead.
    return null;
  }
  if (content === null || content === undefined) return null;
  // On short pages Readability keeps the whole body, navigation included.
  return htmlToSections(content, { stripBoilerplate: true });
}
