import { DocumentError } from '../errors.js';
import type { ExtractedDocument } from './extracted.js';
import { collapseWhitespace, SectionBuilder } from './section-builder.js';

/** Records per section, as for CSV. */
export const JSON_RECORDS_PER_SECTION = 50;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * JSON (and JSON Lines): records become one line each (`key: value; nested.key: value`, arrays of
 * plain values joined with commas), so that every line reads on its own.
 * - an array: one line per element, `JSON_RECORDS_PER_SECTION` lines per section;
 * - an object: its plain values as `key: value` lines in a first section, then one section per key
 *   holding an object or array, with that key as heading path;
 * - JSON Lines (`.jsonl`, `.ndjson`): each line is one record of a top-level array.
 * Nulls and empty strings carry nothing and are left out.
 */
export function extractJson(text: string, name: string, mediaType: string): ExtractedDocument {
  const value = mediaType === 'application/jsonl' ? parseJsonLines(text, name) : parseJson(text, name);
  const builder = new SectionBuilder();
  if (Array.isArray(value)) addRecords(builder, value, []);
  else if (isObject(value)) addObject(builder, value);
  else builder.add(scalarText(value), null, []);
  if (builder.isEmpty)
    throw new DocumentError(name, 'no_text', 'holds no values (only empty objects, arrays or nulls)');
  return { ...builder.build(), pageCount: null, title: null };
}

function parseJson(text: string, name: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    throw new DocumentError(
      name,
      'corrupt',
      `is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}

function parseJsonLines(text: string, name: string): Json[] {
  const records: Json[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line) as Json);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new DocumentError(name, 'corrupt', `is not valid JSON Lines: line ${index + 1}: ${reason}`, {
        cause: error,
      });
    }
  });
  return records;
}

function addObject(builder: SectionBuilder, object: { [key: string]: Json }): void {
  const plain: string[] = [];
  const nested: Array<[string, Json[] | { [key: string]: Json }]> = [];
  for (const [key, value] of Object.entries(object)) {
    if (Array.isArray(value) && !value.every(isScalar)) nested.push([key, value]);
    else if (isObject(value)) nested.push([key, value]);
    else plain.push(...flatten(value, key));
  }
  builder.add(plain.join('\n'), null, []);
  for (const [key, value] of nested) {
    if (Array.isArray(value)) addRecords(builder, value, [key]);
    else builder.add(flatten(value, key).join('\n'), null, [key]);
  }
}

function addRecords(builder: SectionBuilder, records: Json[], headingPath: string[]): void {
  for (let start = 0; start < records.length; start += JSON_RECORDS_PER_SECTION) {
    const lines = records
      .slice(start, start + JSON_RECORDS_PER_SECTION)
      .map((record) =>
        isObject(record) || Array.isArray(record) ? flatten(record, '').join('; ') : scalarText(record),
      )
      .filter((line) => line !== '');
    builder.add(lines.join('\n'), null, headingPath);
  }
}

/** `path: value` pairs of every plain value under `value`, paths dotted (array indexes included). */
export function flatten(value: Json, path: string): string[] {
  if (isScalar(value)) {
    const text = scalarText(value);
    if (text === '') return [];
    return [path === '' ? text : `${path}: ${text}`];
  }
  if (Array.isArray(value)) {
    if (value.every(isScalar)) {
      const joined = value
        .map(scalarText)
        .filter((text) => text !== '')
        .join(', ');
      if (joined === '') return [];
      return [path === '' ? joined : `${path}: ${joined}`];
    }
    return value.flatMap((item, index) => flatten(item, join(path, String(index))));
  }
  return Object.entries(value).flatMap(([key, item]) => flatten(item, join(path, key)));
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: Json): value is null | boolean | number | string {
  return value === null || typeof value !== 'object';
}

function scalarText(value: Json): string {
  if (value === null) return '';
  if (typeof value === 'string') return collapseWhitespace(value);
  if (typeof value === 'object') return '';
  return String(value);
}
