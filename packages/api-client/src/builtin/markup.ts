/**
 * Markup taken out of passage text before it is quoted: Markdown syntax (fences, headings, emphasis,
 * inline code marks, links and images, tables, list and quote markers) and HTML tags. The words stay;
 * only the marks go, so a quote reads as prose and a fence line is never quoted as a sentence.
 */
export function stripMarkup(text: string): string {
  return (
    text
      // Fence lines (``` or ~~~, with or without a language) go; the code between them stays.
      .replace(/(^|\s)(```|~~~)[\w+-]*(?=\s|$)/g, '$1')
      .replace(/<\/?[A-Za-z][^<>]*>/g, ' ')
      .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)/g, '$1')
      .replace(/(^|\s)#{1,6}\s+/g, '$1')
      .replace(/(^|\s)>\s+/g, '$1')
      .replace(/(^|\n)\s*(?:[-*+]|\d{1,3}[.)])\s+/g, '$1')
      .replace(/(\*\*|__)(?=\S)([^*_]*?\S)\1/g, '$2')
      .replace(/(^|[^\w*])[*_](?=\S)([^*_]*?\S)[*_](?=[^\w*]|$)/g, '$1$2')
      .replace(/`+/g, '')
      .replace(/\s*\|(?:\s*:?-{3,}:?\s*\|)+\s*/g, ' ')
      .replace(/\s*\|\s*/g, ' ')
      .replace(/[ \t]+/g, ' ')
      .trim()
  );
}
