/** Where an ingest job's document comes from, as carried in the job payload. */
import * as z from 'zod';
import { CONTROL_CHARS } from './common.js';

const FileNameSchema = z
  .string()
  .min(1, 'name must not be empty')
  .max(255, 'name must be at most 255 characters')
  .refine((name) => !CONTROL_CHARS.test(name), 'name must not contain control characters');

const MediaTypeSchema = z
  .string()
  .max(255, 'mediaType must be at most 255 characters')
  .regex(
    /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$/,
    'mediaType must look like "type/subtype"',
  );

export const PathSourceSchema = z
  .object({
    kind: z.literal('path'),
    /** Absolute path of a file inside one of the worker's configured roots. */
    path: z
      .string()
      .min(1, 'path must not be empty')
      .max(4096, 'path must be at most 4096 characters')
      .refine((path) => !path.includes('\0'), 'path must not contain NUL characters'),
  })
  .strict();

export const UrlSourceSchema = z
  .object({
    kind: z.literal('url'),
    /** An http(s) URL; credentials in it are used for its own origin and never logged. */
    url: z
      .string()
      .min(1, 'url must not be empty')
      .max(8192, 'url must be at most 8192 characters')
      // The message never repeats the URL: it may carry credentials.
      .refine((url) => URL.canParse(url), 'url is not a valid absolute URL'),
  })
  .strict();

export const TextSourceSchema = z
  .object({
    kind: z.literal('text'),
    text: z.string(),
    /** File name given to the text; default `inline.txt`, or after `mediaType` (`inline.md` …). */
    name: FileNameSchema.optional(),
    /** Media type of the text, e.g. `text/markdown`; a hint for the loader. */
    mediaType: MediaTypeSchema.optional(),
  })
  .strict();

export const Base64SourceSchema = z
  .object({
    kind: z.literal('base64'),
    /** The file's bytes in standard base64 (RFC 4648 §4), padding optional, no whitespace. */
    data: z.string(),
    /** File name; its extension helps to detect the type. */
    name: FileNameSchema,
  })
  .strict();

/** The `source` of an ingest job. */
export const IngestSourceSchema = z.discriminatedUnion('kind', [
  PathSourceSchema,
  UrlSourceSchema,
  TextSourceSchema,
  Base64SourceSchema,
]);

export type PathSource = z.infer<typeof PathSourceSchema>;
export type UrlSource = z.infer<typeof UrlSourceSchema>;
export type TextSource = z.infer<typeof TextSourceSchema>;
export type Base64Source = z.infer<typeof Base64SourceSchema>;
export type IngestSource = z.infer<typeof IngestSourceSchema>;
