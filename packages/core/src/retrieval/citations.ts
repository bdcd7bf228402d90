/**
 * Citations in an answer: `[2]`, `[1, 3]` (commas or semicolons) and runs such as `[1][3]`, each a
 * reference to the numbered passage of the context.
 */

/** A bracket of one or more passage numbers, with the spaces or tabs before it. */
const CITATION_RE = /([ \t]*)\[\s*(\d{1,6}(?:\s*[,;]\s*\d{1,6})*)\s*\]/g;

export interface CheckedCitations {
  /** The answer with every reference to a missing passage taken out. */
  text: string;
  /** Valid passage numbers cited, ascending, each once. */
  cited: number[];
  /** Numbers cited that name no passage, ascending, each once. */
  removed: number[];
}

/**
 * Keeps the citations that name one of `passageCount` passages (1-based) and removes the others: a
 * bracket left empty disappears with the space before it, a list keeps its valid numbers.
 */
export function checkCitations(answer: string, passageCount: number): CheckedCitations {
  const cited = new Set<number>();
  const removed = new Set<number>();
  const text = answer.replace(CITATION_RE, (match, space: string, list: string) => {
    const numbers = list.split(/[,;]/).map((n) => Number(n.trim()));
    const valid = [...new Set(numbers.filter((n) => n >= 1 && n <= passageCount))];
    for (const n of numbers) (n >= 1 && n <= passageCount ? cited : removed).add(n);
    if (valid.length === numbers.length) return match;
    return valid.length === 0 ? '' : `${space}[${valid.join(', ')}]`;
  });
  const ascending = (set: Set<number>) => [...set].sort((a, b) => a - b);
  return { text: text.trim(), cited: ascending(cited), removed: ascending(removed) };
}

/** The answer without any citation, for comparing it with a fixed sentence. */
export function withoutCitations(answer: string): string {
  return answer.replace(CITATION_RE, '');
}

export interface RenumberedCitations {
  /**
   * The answer with its citations renumbered 1..n in order of first use (a bracket's numbers
   * ascending, each once) and every reference to a missing passage taken out.
   */
  text: string;
  /** Passage numbers (as the context numbered them) in order of first use: `order[i]` is now `[i + 1]`. */
  order: number[];
  /** Numbers cited that name no passage, ascending, each once. */
  removed: number[];
}

/**
 * Renumbers an answer's citations so that they run 1, 2, 3… in the order the answer first cites
 * them, with no gaps: an answer citing passages 3 and 1 of the context reads `[1]` and `[2]`, and
 * `order` says which passage each new number stands for. References to passages outside
 * 1..`passageCount` are dropped as {@link checkCitations} drops them.
 */
export function renumberCitations(answer: string, passageCount: number): RenumberedCitations {
  const renumbered = new Map<number, number>();
  const removed = new Set<number>();
  const text = answer.replace(CITATION_RE, (match, space: string, list: string) => {
    const numbers = list.split(/[,;]/).map((n) => Number(n.trim()));
    const mapped: number[] = [];
    for (const n of numbers) {
      if (n < 1 || n > passageCount) {
        removed.add(n);
        continue;
      }
      let next = renumbered.get(n);
      if (next === undefined) {
        next = renumbered.size + 1;
        renumbered.set(n, next);
      }
      if (!mapped.includes(next)) mapped.push(next);
    }
    if (mapped.length === 0) return '';
    mapped.sort((a, b) => a - b);
    const unchanged = mapped.length === numbers.length && mapped.every((n, i) => n === numbers[i]);
    return unchanged ? match : `${space}[${mapped.join(', ')}]`;
  });
  return {
    text: text.trim(),
    order: [...renumbered.keys()],
    removed: [...removed].sort((a, b) => a - b),
  };
}
