// Bundles the console (console/src, TypeScript) into dist/console with its page and styles: one
// script and one stylesheet, served by the gateway at /console/. Nothing is loaded from elsewhere.
import { copyFile, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';

const root = new URL('../console/', import.meta.url);
const out = new URL('../dist/console/', import.meta.url);
await mkdir(out, { recursive: true });
await build({
  entryPoints: [new URL('src/main.ts', root).pathname],
  outfile: new URL('app.js', out).pathname,
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
await copyFile(new URL('index.html', root), new URL('index.html', out));
await copyFile(new URL('app.css', root), new URL('app.css', out));
