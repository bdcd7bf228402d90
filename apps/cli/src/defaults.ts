/**
 * Defaults the command line shows in its help. Kept apart from the command modules, which load
 * the queue and store libraries, so that building the help loads nothing heavy.
 */
import { fileURLToPath } from 'node:url';
import type { QueueName } from '@quire/jobs';

/** Every queue `quire status` looks at. */
export const ALL_QUEUES: readonly QueueName[] = ['ingest', 'query', 'batch'];

/** The sample documents shipped with the repository (`samples/documents/` at its root). */
export const DEFAULT_SAMPLES_DIR = fileURLToPath(new URL('../../../samples/documents/', import.meta.url));

/** What `quire demo` asks about the samples. */
export const DEMO_QUESTIONS: readonly string[] = [
  'How often does the Harbor Light flash?',
  'What water temperature is best for green tea?',
  'Which planet has a day longer than its year?',
  'When was Pluto reclassified as a dwarf planet?',
];
