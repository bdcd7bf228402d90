/** Command-line flags of the benchmarks, parsed and validated with zod. */
import { parseArgs } from 'node:util';
import { z } from 'zod';

/**
 * Parses `--name value` flags with `schema` (keys in camelCase, flags in kebab-case). `--help` prints
 * `usage` and exits; a wrong or unknown flag exits with a message naming it.
 */
export function parseFlags<S extends z.ZodObject>(schema: S, usage: string, given = process.argv.slice(2)) {
  // `pnpm run x -- --flag` forwards the separator itself.
  const argv = given[0] === '--' ? given.slice(1) : given;
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const key of Object.keys(schema.shape)) options[kebab(key)] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (error) {
    fail(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = values[kebab(key)];
    if (value !== undefined) input[key] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail(`--${kebab(String(issue.path[0] ?? ''))}: ${issue.message}\n\n${usage}`);
  }
  return parsed.data as z.infer<S>;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/** "1,2,4" → [1, 2, 4] (positive integers). */
export const intList = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'expected a comma-separated list of positive integers, e.g. 1,2,4')
  .transform((v) => v.split(',').map(Number))
  .refine((list) => list.every((n) => n > 0), 'every value must be at least 1');

export const positiveInt = z.coerce.number().int().positive();
export const nonNegative = z.coerce.number().min(0);
