/**
 * `KEY=VALUE` files, as read by Docker Compose (`env_file`) and kustomize (`envs`). The two differ
 * on quotes and surrounding spaces, so these files use neither: what is written is what a
 * container gets, whichever tool reads it.
 */
import { readText, shown } from './files.js';

export interface EnvFile {
  /** Active settings, in file order. */
  values: Map<string, string>;
  /** Keys of commented-out examples (`# KEY=value`): documentation that must name real settings. */
  documented: string[];
}

const SETTING = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
const DOCUMENTED = /^#\s*([A-Z][A-Z0-9_]*)=/;

export function parseEnvFile(source: string, name: string): EnvFile {
  const values = new Map<string, string>();
  const documented: string[] = [];
  source.split(/\r?\n/).forEach((line, index) => {
    const where = `${name}:${index + 1}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const key = DOCUMENTED.exec(line)?.[1];
      if (key) documented.push(key);
      return;
    }
    const match = SETTING.exec(line);
    if (!match) throw new Error(`${where}: expected KEY=VALUE, got ${JSON.stringify(line)}`);
    const [, key = '', value = ''] = match;
    if (/^["']/.test(value) || value !== value.trim()) {
      throw new Error(
        `${where}: ${key} has quotes or surrounding spaces, which compose and kustomize read differently`,
      );
    }
    if (values.has(key)) throw new Error(`${where}: ${key} is set twice`);
    values.set(key, value);
  });
  return { values, documented };
}

export function readEnvFile(path: string): EnvFile {
  return parseEnvFile(readText(path), shown(path));
}
