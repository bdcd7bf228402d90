/**
 * Sums up V8 CPU profiles (`.cpuprofile` files, as `node --cpu-prof` writes them): self time by package
 * and by function, so that "where does the time go?" has an answer with numbers.
 *
 *   pnpm --filter @quire/bench profile-summary <dir-or-file>...
 *
 * `pnpm bench:ingest --cpu-profile-dir <dir>` makes the ingest workers write one profile each.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { printLine, printTable } from './lib/report.js';

const ProfileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

/** "bullmq", "@quire/core", "node:internal", "(garbage collector)"… for a script URL. */
function ownerOf(url: string, functionName: string): string {
  if (url === '') return `(${functionName.replace(/^\(|\)$/g, '') || 'native'})`;
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pnpm) return pnpm[1]!;
  const nodeModules = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (nodeModules) return nodeModules[1]!;
  const workspace = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (workspace) return `@quire/${workspace[2]}`;
  if (url.startsWith('node:')) return 'node (built-in modules)';
  return url;
}

function files(paths: readonly string[]): string[] {
  return paths.flatMap((path) =>
    statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => join(path, f))
      : [path],
  );
}

const paths = files(process.argv.slice(2).filter((a) => a !== '--'));
if (paths.length === 0) {
  process.stderr.write('usage: profile-summary <dir-or-.cpuprofile>...\n');
  process.exit(2);
}
const byOwner = new Map<string, number>();
const byFunction = new Map<string, number>();
let totalMs = 0;
for (const path of paths) {
  const profile = ProfileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = nodes.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const owner = ownerOf(url, functionName);
    totalMs += ms;
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + ms);
    const fn = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|packages|apps)\//, '$1/')}:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  });
}
const top = (map: Map<string, number>, count: number, label: string) =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => ({ [label]: name, 'self ms': ms, share: `${((ms / totalMs) * 100).toFixed(1)} %` }));
printLine(`${paths.length} profile(s), ${(totalMs / 1000).toFixed(1)} s sampled`);
printTable('self time by package', top(byOwner, 20, 'package'));
printTable('self time by function', top(byFunction, 25, 'function'));
