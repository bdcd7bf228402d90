/** Every YAML file under infra/ parses, with no duplicate keys (a silent override in most tools). */
import { describe, expect, it } from 'vitest';
import { INFRA, listFiles, readYamlDocuments, shown } from './support/files.js';

describe('YAML files', () => {
  const files = listFiles(INFRA, /\.ya?ml$/);

  it('are found (compose, Kubernetes, observability)', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  for (const file of files) {
    it(`${shown(file)} parses`, () => {
      expect(readYamlDocuments(file).length, shown(file)).toBeGreaterThan(0);
    });
  }
});
