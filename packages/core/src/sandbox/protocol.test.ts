import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TaskFailure } from './protocol.js';

describe('the sandbox protocol module', () => {
  it('imports nothing at run time: every task imports it in the child, before its first document', () => {
    // A validation library here cost each child ~0.12 s of CPU in its first task.
    const source = readFileSync(new URL('./protocol.ts', import.meta.url), 'utf8');
    const imports = source.split('\n').filter((line) => /^\s*(import|export .* from)\s/.test(line));
    expect(imports.filter((line) => !/^\s*(import|export) type\s/.test(line))).toEqual([]);
    expect(source).not.toMatch(/\bimport\s*\(|\brequire\s*\(/);
  });

  it('carries a document problem found in a task', () => {
    const failure = new TaskFailure('corrupt', 'has no pages', { pages: 0 });
    expect(failure).toBeInstanceOf(Error);
    expect([failure.name, failure.code, failure.reason, failure.details]).toEqual([
      'TaskFailure',
      'corrupt',
      'has no pages',
      { pages: 0 },
    ]);
  });
});
