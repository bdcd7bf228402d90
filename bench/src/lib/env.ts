/**
 * The benchmarks' environment, read once. Benchmarks are programs, not libraries: this module is the
 * one place that reads `process.env`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const EnvSchema = z.object({
  /** The real documents benchmarks read. Default: `shared/corpus` beside the repository. */
  BENCH_CORPUS_DIR: z.string().min(1).optional(),
  /** A Redis to use instead of a private `redis-server` (the testkit helper reads it too). */
  REDIS_URL: z.string().url().optional(),
});

const env = EnvSchema.parse(process.env);

const DEFAULT_CORPUS = fileURLToPath(new URL('../../../../shared/corpus', import.meta.url));

export function corpusDir(): string {
  const dir = env.BENCH_CORPUS_DIR ?? DEFAULT_CORPUS;
  if (!existsSync(dir)) {
    process.stderr.write(
      `corpus not found at ${dir}: set BENCH_CORPUS_DIR to the folder holding text/, md/ and pdf/\n`,
    );
    process.exit(2);
  }
  return dir;
}

export function redisUrlFromEnv(): string | undefined {
  return env.REDIS_URL;
}
