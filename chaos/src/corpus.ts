/**
 * Generated documents for the scenarios: deterministic for a seed, of varied length (so jobs end at
 * different times and kills land in different stages), every paragraph unique (so each chunk has a
 * text, hence a vector, of its own).
 */
import { type Random, randomInt, seededRandom } from './prng.js';

export interface CorpusDocument {
  documentId: string;
  /** File name given as the source name. */
  name: string;
  text: string;
}

export interface CorpusOptions {
  /** Number of documents. */
  documents: number;
  /** Seed of the generator. Default 1. */
  seed?: number;
  /** Paragraphs per document, drawn uniformly between the two. Default [3, 10]. */
  paragraphs?: readonly [number, number];
  /** Prefix of every document id. Default `doc`. */
  idPrefix?: string;
}

const WORDS = (
  'harbour tide lantern keeper ferry gull storm ledger cargo beacon reef anchor current mooring ' +
  'captain channel signal weather fog buoy dock crane pier salt rope hull deck mast sail compass ' +
  'chart voyage island coast shoal pilot engine valve pump rudder galley cabin barrel crate net ' +
  'oyster mackerel herring cod kelp shell pebble dune cliff cove estuary inlet jetty quay wharf'
).split(' ');

function sentence(random: Random, tag: string): string {
  const length = randomInt(random, 8, 18);
  const words = Array.from({ length }, () => WORDS[Math.floor(random() * WORDS.length)]!);
  words.splice(randomInt(random, 0, words.length), 0, tag);
  const text = words.join(' ');
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}

function paragraph(random: Random, tag: string): string {
  return Array.from({ length: randomInt(random, 4, 8) }, (_, i) => sentence(random, `${tag}s${i}`)).join(' ');
}

/** A document's text; `revision` > 0 gives a changed version of the same document. */
export function documentText(documentId: string, seed: number, paragraphs: number, revision = 0): string {
  const random = seededRandom(seed);
  const title = `# ${documentId}${revision > 0 ? ` (revision ${revision})` : ''}`;
  const body = Array.from({ length: paragraphs }, (_, i) =>
    paragraph(random, `${documentId}p${i}r${revision}`),
  );
  return [title, ...body].join('\n\n');
}

export function makeCorpus(options: CorpusOptions): CorpusDocument[] {
  const seed = options.seed ?? 1;
  const [min, max] = options.paragraphs ?? [3, 10];
  const random = seededRandom(seed);
  const prefix = options.idPrefix ?? 'doc';
  return Array.from({ length: options.documents }, (_, i) => {
    const documentId = `${prefix}-${String(i).padStart(4, '0')}`;
    const paragraphs = randomInt(random, min, max);
    return {
      documentId,
      name: `${documentId}.md`,
      text: documentText(documentId, seed * 100_003 + i, paragraphs),
    };
  });
}

/** The same document with changed content (a new version, the same id and name). */
export function reviseDocument(doc: CorpusDocument, revision: number, seed = 1): CorpusDocument {
  const paragraphs = doc.text.split('\n\n').length - 1;
  return {
    ...doc,
    text: documentText(
      doc.documentId,
      seed * 7_919 + revision * 104_729 + hashString(doc.documentId),
      paragraphs,
      revision,
    ),
  };
}

/** FNV-1a, for a per-document seed. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}
