/** Reading the repository's deployment files, and narrowing parsed YAML/JSON with clear errors. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

/** Repository root (this file is infra/test/support/files.ts). */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const INFRA = join(REPO, 'infra');

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Path relative to the repository, for messages. */
export function shown(path: string): string {
  return relative(REPO, path);
}

/** One YAML document; `<<` merge keys resolved as Docker Compose does. */
export function readYaml(path: string): unknown {
  return parse(readText(path), { merge: true });
}

/** Every document of a multi-document YAML file (Kubernetes manifests); throws on any error. */
export function readYamlDocuments(path: string): unknown[] {
  return parseAllDocuments(readText(path)).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${shown(path)}: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    return value === null || value === undefined ? [] : [value];
  });
}

/** Files under `dir` (recursively, skipping node_modules) whose name matches `pattern`. */
export function listFiles(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : listFiles(path, pattern);
    return pattern.test(entry.name) ? [path] : [];
  });
}

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `what`, or an error naming it. */
export function record(value: unknown, what: string): Json {
  if (!isRecord(value)) throw new Error(`${what}: expected a mapping, got ${JSON.stringify(value)}`);
  return value;
}

export function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a list, got ${JSON.stringify(value)}`);
  return value;
}

export function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what}: expected a string, got ${JSON.stringify(value)}`);
  return value;
}

/** A scalar as the string a container would see (YAML numbers and booleans included). */
export function scalar(value: unknown, what: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  throw new Error(`${what}: expected a scalar, got ${JSON.stringify(value)}`);
}

export function optionalRecord(value: unknown, what: string): Json | undefined {
  return value === undefined ? undefined : record(value, what);
}

export function optionalList(value: unknown, what: string): unknown[] {
  return value === undefined ? [] : list(value, what);
}
