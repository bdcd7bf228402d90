import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '@quire/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError } from './errors.js';
import { expandInputs, splitGlob } from './inputs.js';

let tmp: TempDir;

beforeEach(async () => {
  tmp = await makeTempDir('cli-inputs');
  const docs = join(tmp.path, 'docs');
  await mkdir(join(docs, 'api'), { recursive: true });
  await mkdir(join(docs, 'node_modules', 'pkg'), { recursive: true });
  await mkdir(join(docs, '.git'), { recursive: true });
  await writeFile(join(docs, 'guide.md'), '# Guide');
  await writeFile(join(docs, 'api', 'intro.txt'), 'intro');
  await writeFile(join(docs, 'api', 'logo.svg'), 'not a document');
  await writeFile(join(docs, 'api', 'contract-scan.tiff'), 'a scan, read by OCR');
  await writeFile(join(docs, '.hidden.md'), 'hidden');
  await writeFile(join(docs, 'node_modules', 'pkg', 'README.md'), 'dependency');
  await writeFile(join(docs, '.git', 'HEAD.txt'), 'ref');
});

afterEach(async () => {
  await tmp.cleanup();
});

const ids = (inputs: { documentId: string }[]) => inputs.map((i) => i.documentId);

describe('expandInputs', () => {
  it('knows a file named on the command line by its file name', async () => {
    const inputs = await expandInputs(['docs/api/intro.txt'], { cwd: tmp.path });
    expect(inputs).toEqual([
      {
        kind: 'file',
        path: join(tmp.path, 'docs/api/intro.txt'),
        name: 'intro.txt',
        documentId: 'intro.txt',
        size: 5,
      },
    ]);
  });

  it('walks a directory for documents only, skipping dot files and dependencies', async () => {
    const inputs = await expandInputs(['docs'], { cwd: tmp.path });
    expect(ids(inputs)).toEqual(['api/contract-scan.tiff', 'api/intro.txt', 'guide.md']);
  });

  it('names globbed files by their path below the glob base', async () => {
    expect(ids(await expandInputs(['docs/**/*.txt'], { cwd: tmp.path }))).toEqual(['api/intro.txt']);
    expect(ids(await expandInputs([join(tmp.path, 'docs', '*.md')], { cwd: '/' }))).toEqual(['guide.md']);
  });

  it('gives the same ids from any working directory', async () => {
    const fromRoot = await expandInputs(['docs'], { cwd: tmp.path });
    const fromInside = await expandInputs(['.'], { cwd: join(tmp.path, 'docs') });
    expect(ids(fromInside)).toEqual(ids(fromRoot));
  });

  it('resolves symbolic links to the real path', async () => {
    await symlink(join(tmp.path, 'docs', 'guide.md'), join(tmp.path, 'link.md'));
    const [input] = await expandInputs(['link.md'], { cwd: tmp.path });
    expect(input).toMatchObject({
      kind: 'file',
      path: join(tmp.path, 'docs', 'guide.md'),
      documentId: 'link.md',
    });
  });

  it('keeps URLs as URLs, with an id free of credentials and query', async () => {
    const [input] = await expandInputs(['https://user:secret@example.com/a/guide.html?sig=abc#top'], {
      cwd: tmp.path,
    });
    expect(input).toEqual({
      kind: 'url',
      url: 'https://user:secret@example.com/a/guide.html?sig=abc#top',
      name: 'https://example.com/a/guide.html',
      documentId: 'https://example.com/a/guide.html',
    });
  });

  it('applies --id to a single input and --id-prefix to all', async () => {
    expect(ids(await expandInputs(['docs/guide.md'], { cwd: tmp.path, id: 'handbook' }))).toEqual([
      'handbook',
    ]);
    expect(ids(await expandInputs(['docs'], { cwd: tmp.path, idPrefix: 'kb/' }))).toEqual([
      'kb/api/contract-scan.tiff',
      'kb/api/intro.txt',
      'kb/guide.md',
    ]);
    await expect(expandInputs(['docs'], { cwd: tmp.path, id: 'x' })).rejects.toThrow(
      /--id names one document/,
    );
  });

  it('drops a file given twice, and refuses two files that would share an id', async () => {
    expect(ids(await expandInputs(['docs/guide.md', 'docs/**/*.md'], { cwd: tmp.path }))).toEqual([
      'guide.md',
    ]);
    await mkdir(join(tmp.path, 'other'));
    await writeFile(join(tmp.path, 'other', 'guide.md'), 'another guide');
    await expect(expandInputs(['docs', 'other'], { cwd: tmp.path })).rejects.toThrow(
      /would both be document "guide.md"/,
    );
  });

  it('names the argument that matches nothing', async () => {
    const fail = (args: string[]) => expandInputs(args, { cwd: tmp.path });
    await expect(fail(['missing.pdf'])).rejects.toThrow('no such file or directory: missing.pdf');
    await expect(fail(['docs/**/*.pdf'])).rejects.toThrow(/pattern docs\/\*\*\/\*\.pdf matches no documents/);
    await expect(fail(['ftp://example.com/a.pdf'])).rejects.toThrow(/ftp:\/\/ URLs are not supported/);
    await expect(fail([])).rejects.toBeInstanceOf(CliError);
    await mkdir(join(tmp.path, 'empty'));
    await expect(fail(['empty'])).rejects.toThrow(/directory empty holds no documents/);
  });
});

describe('splitGlob', () => {
  it('splits the literal directories from the pattern', () => {
    expect(splitGlob('docs/api/**/*.md', '/work')).toEqual({ base: '/work/docs/api', pattern: '**/*.md' });
    expect(splitGlob('*.pdf', '/work')).toEqual({ base: '/work', pattern: '*.pdf' });
    expect(splitGlob('/srv/{a,b}/*.txt', '/work')).toEqual({ base: '/srv', pattern: '{a,b}/*.txt' });
  });
});
