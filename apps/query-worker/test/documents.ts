/**
 * The document set the end-to-end tests ask about, written here: a few documents on distinct topics
 * (one a three-page PDF, so pages are checkable), a long field guide so that retrieval has more
 * candidates than it keeps, and another tenant's documents that must never show up in the first
 * tenant's answers.
 */
import type { IngestJobInput } from '@quire/jobs';
import { makePdf } from '@quire/testkit';

export const TENANT_A = 'acme';
export const TENANT_B = 'globex';

/** A question whose answer sits in one known document (and page, for the PDF). */
export interface Fact {
  question: string;
  documentId: string;
  /** Words the extractive answer must contain. */
  expected: string;
  /** The page the answer is on; null for formats without pages. */
  page: number | null;
}

export const FACTS: Fact[] = [
  {
    question: 'What fuel does the North Point lamp burn?',
    documentId: 'lighthouse-manual',
    expected: 'paraffin oil',
    page: 2,
  },
  {
    question: 'How often does the diaphone fog horn sound?',
    documentId: 'lighthouse-manual',
    expected: 'two blasts every sixty seconds',
    page: 3,
  },
  {
    question: 'In which year was the North Point lighthouse station built?',
    documentId: 'lighthouse-manual',
    expected: '1874',
    page: 1,
  },
  {
    question: 'How often should the sourdough starter be fed?',
    documentId: 'sourdough',
    expected: 'every twelve hours',
    page: null,
  },
  {
    question: 'How many eggs does a honeybee queen lay per day?',
    documentId: 'beekeeping',
    expected: 'two thousand eggs',
    page: null,
  },
  {
    question: 'Is castling allowed when the king is in check?',
    documentId: 'chess-rules',
    expected: 'Castling is not allowed when the king is in check',
    page: null,
  },
];

/** Nothing in either tenant's documents is about this. */
export const UNANSWERABLE = 'Which planet has the most moons?';

/** Tenant B's own lighthouse, under the same document id as tenant A's. */
export const TENANT_B_FACT: Fact = {
  question: 'What fuel does the South Cape lamp burn?',
  documentId: 'lighthouse-manual',
  expected: 'acetylene gas',
  page: null,
};
/** Only tenant B's documents hold this. */
export const TENANT_B_SECRET = {
  question: 'What is the combination of the Globex vault?',
  documentId: 'vault-notes',
  expected: 'seven three nine',
};

const BIRDS = [
  'gannet',
  'puffin',
  'razorbill',
  'guillemot',
  'kittiwake',
  'fulmar',
  'shag',
  'cormorant',
  'oystercatcher',
  'curlew',
  'dunlin',
  'redshank',
  'turnstone',
  'sanderling',
  'knot',
  'godwit',
  'whimbrel',
  'plover',
  'lapwing',
  'avocet',
  'eider',
  'scoter',
  'merganser',
  'shelduck',
  'brent goose',
  'skua',
  'tern',
  'petrel',
  'shearwater',
  'storm petrel',
  'little egret',
  'grey heron',
  'spoonbill',
  'rock pipit',
  'chough',
];
const CALLS = ['a harsh rattle', 'a soft growl', 'a thin whistle', 'a deep croak', 'a ringing trill'];
const HABITATS = ['sea cliffs', 'sand dunes', 'salt marshes', 'shingle banks', 'rocky islets'];

/** One section per bird, each a chunk of its own at the field guide's chunk size. */
export function fieldGuideText(): string {
  return BIRDS.map((bird, i) => {
    const call = CALLS[i % CALLS.length];
    const habitat = HABITATS[(i * 3) % HABITATS.length];
    return [
      `## The ${bird}`,
      '',
      `The ${bird} breeds on ${habitat} along the northern coast and returns to the same site each spring.`,
      `The call of the ${bird} is described by watchers as ${call}, heard most often at dawn.`,
      `Count the ${bird} from a fixed point and record the tide, the wind and the time of the count.`,
    ].join('\n');
  }).join('\n\n');
}

export const FIELD_GUIDE_FACT: Fact = {
  question: 'How do watchers describe the call of the gannet?',
  documentId: 'field-guide',
  expected: 'a harsh rattle',
  page: null,
};

/** Every document of both tenants, as ingest jobs. */
export async function documentSet(): Promise<IngestJobInput[]> {
  const manual = await makePdf([
    [
      "North Point Lighthouse Keeper's Manual.",
      'This manual describes the duties of the keeper at North Point.',
      'The North Point lighthouse station was built in 1874 on the granite headland above the harbour.',
    ],
    [
      'The lamp.',
      'The North Point lamp burns paraffin oil and must be lit thirty minutes before sunset.',
      'The keeper trims the wick every four hours during the night and logs the oil used.',
    ],
    [
      'The fog signal.',
      'In fog the diaphone fog horn sounds two blasts every sixty seconds.',
      'Visibility below two nautical miles counts as fog for the purposes of this manual.',
    ],
  ]);
  return [
    {
      tenant: TENANT_A,
      documentId: 'lighthouse-manual',
      source: { kind: 'base64', data: manual.toString('base64'), name: 'lighthouse-manual.pdf' },
      metadata: { department: 'maritime' },
    },
    {
      tenant: TENANT_A,
      documentId: 'sourdough',
      source: {
        kind: 'text',
        name: 'sourdough.md',
        text: [
          '# Sourdough basics',
          '',
          '## Feeding the starter',
          '',
          'Feed the sourdough starter with equal weights of rye flour and water every twelve hours.',
          'A starter kept in the fridge needs feeding only once a week.',
          '',
          '## Baking',
          '',
          'Bake the loaf in a covered pot at a high heat for the first twenty minutes.',
        ].join('\n'),
      },
      metadata: { department: 'kitchen' },
    },
    {
      tenant: TENANT_A,
      documentId: 'beekeeping',
      source: {
        kind: 'text',
        name: 'beekeeping.txt',
        text:
          'Notes on beekeeping. A healthy honeybee queen lays up to two thousand eggs per day in early summer. ' +
          'Worker bees live for about six weeks in the busy season. Inspect the hive every nine days in May.',
      },
      metadata: { department: 'garden' },
    },
    {
      tenant: TENANT_A,
      documentId: 'chess-rules',
      source: {
        kind: 'text',
        name: 'chess-rules.txt',
        text:
          'Club chess rules. Castling is not allowed when the king is in check. ' +
          'A pawn that reaches the last rank is promoted to a queen, rook, bishop or knight.',
      },
      metadata: { department: 'club' },
    },
    {
      tenant: TENANT_A,
      documentId: 'field-guide',
      source: { kind: 'text', name: 'field-guide.md', text: fieldGuideText() },
      metadata: { department: 'garden' },
      chunking: { chunkSize: 64, chunkOverlap: 0 },
    },
    {
      tenant: TENANT_B,
      documentId: 'lighthouse-manual',
      source: {
        kind: 'text',
        name: 'south-cape.txt',
        text:
          'South Cape lighthouse. The South Cape lamp burns acetylene gas and is lit at dusk. ' +
          'The keeper at South Cape also tends the fog bell.',
      },
    },
    {
      tenant: TENANT_B,
      documentId: 'vault-notes',
      source: {
        kind: 'text',
        name: 'vault-notes.txt',
        text: 'Globex vault notes. The combination of the Globex vault is seven three nine, changed every quarter.',
      },
    },
  ];
}
