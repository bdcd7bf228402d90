// Builds `dist/main.js`, the `quire` command, as a bundle: Node then reads a few files instead of
// resolving and loading the hundreds of modules of commander, zod, BullMQ and ioredis one by one,
// which is most of a command's start-up time. Each command stays in a chunk of its own, loaded
// when it runs, so that `--help` reads the entry alone. Types are checked by `pnpm typecheck`.
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist`;

// Core's main entry (the vector stores, better-sqlite3, pdf.js …) is loaded by `docs list` only:
// it stays an import of the installed package. Its zod-only config module is bundled.
const coreIndexExternal = {
  name: 'core-index-external',
  setup(b) {
    b.onResolve({ filter: /^@quire\/core$/ }, (args) => ({ path: args.path, external: true }));
  },
};

await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // Chunks beside the entry: `import.meta.url` paths (the package's package.json, the samples)
  // are relative to `dist/`.
  chunkNames: '[name]-[hash]',
  // ES module builds where a package has one (BullMQ), so that what a command does not use is left out.
  mainFields: ['module', 'main'],
  // CommonJS packages (ioredis) call `require` for Node's modules; an ES module has none.
  banner: {
    js: "import { createRequire as quireCreateRequire } from 'node:module'; const require = quireCreateRequire(import.meta.url);",
  },
  // msgpackr's optional native add-on: loaded from node_modules when installed, else msgpackr's own JS.
  external: ['msgpackr-extract'],
  plugins: [coreIndexExternal],
  sourcemap: 'linked',
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});

const bytes = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith('.js'))
  .reduce((sum, [, output]) => sum + output.bytes, 0);
process.stdout.write(`dist/main.js and its chunks: ${(bytes / 1024).toFixed(0)} KiB\n`);
