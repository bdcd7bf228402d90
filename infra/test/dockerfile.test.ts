/**
 * infra/Dockerfile, its ignore file and entry point, checked by reading them (no image is built
 * here): pinned versions that match the repository, the hadolint rules that apply, a non-root
 * runtime stage without build tools, tini as PID 1, and one command per deployable app.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_NAMES } from './support/apps.js';
import { execForm, type Instruction } from './support/dockerfile.js';
import { INFRA, type Json, REPO, readText, readYaml, record, text } from './support/files.js';
import {
  ENTRYPOINT_IN_IMAGE,
  entrypointAppsDir,
  imageCommands,
  RUNTIME_STAGE,
  readDockerfile,
  runtimeStage,
} from './support/image.js';

const dockerfile = readDockerfile();
const stageNames = dockerfile.stages.map((s) => s.name);
const all = dockerfile.stages.flatMap((s) => s.instructions);
const rootPackage = JSON.parse(readText(join(REPO, 'package.json'))) as Json;

function runs(instructions: Instruction[]): string[] {
  return instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
}

function packageJson(dir: string): Json {
  return record(JSON.parse(readText(join(REPO, dir, 'package.json'))), `${dir}/package.json`);
}

describe('base images and tool versions', () => {
  it('uses BuildKit syntax 1.x (cache mounts, COPY --chmod, Dockerfile-specific ignore file)', () => {
    expect(dockerfile.directives.get('syntax')).toMatch(/^docker\/dockerfile:1(\.\d+)*$/);
  });

  it('pins every base image to a version, never `latest`', () => {
    for (const { base } of dockerfile.stages) {
      if (stageNames.includes(base)) continue;
      const [image = '', tag = ''] = base.split(':');
      expect(image, base).toMatch(/^[a-z0-9./-]+$/);
      expect(tag, `${base}: tag`).toMatch(/\d+\.\d+\.\d+/);
      expect(tag, base).not.toContain('latest');
    }
  });

  it('runs Node 22 LTS on Debian bookworm, within the repository engines range', () => {
    const version = dockerfile.globalArgs.get('NODE_VERSION') ?? '';
    const [major = 0, minor = 0] = version.split('.').map(Number);
    expect(major).toBe(22);
    const engines = text(record(rootPackage.engines, 'engines').node, 'engines.node');
    const [minMajor = 0, minMinor = 0] = (/>=\s*(\d+)\.(\d+)/.exec(engines)?.slice(1) ?? []).map(Number);
    expect(major > minMajor || (major === minMajor && minor >= minMinor), `${version} vs ${engines}`).toBe(
      true,
    );
    for (const { base } of dockerfile.stages.filter((s) => !stageNames.includes(s.base))) {
      expect(base).toBe(`node:${version}-bookworm-slim`);
    }
  });

  it("installs the repository's pnpm (packageManager) and the locked turbo", () => {
    expect(`pnpm@${dockerfile.globalArgs.get('PNPM_VERSION')}`).toBe(rootPackage.packageManager);
    const lock = record(readYaml(join(REPO, 'pnpm-lock.yaml')), 'pnpm-lock.yaml');
    const root = record(record(lock.importers, 'importers')['.'], 'importers[.]');
    const turbo = record(record(root.devDependencies, 'devDependencies').turbo, 'turbo');
    expect(dockerfile.globalArgs.get('TURBO_VERSION')).toBe(turbo.version);
  });
});

describe('build', () => {
  it('prunes and deploys @quire/image, whose dependencies are exactly the deployable apps', () => {
    const commands = runs(all).join('\n');
    expect(commands).toMatch(/turbo@\$\{TURBO_VERSION\} prune @quire\/image --docker/);
    expect(commands).toMatch(/pnpm --filter @quire\/image --prod .*deploy \/out/);
    const image = packageJson('infra/image');
    expect(image.name).toBe('@quire/image');
    expect(Object.keys(record(image.dependencies, 'dependencies')).sort()).toEqual(
      APP_NAMES.map((a) => `@quire/${a}`).sort(),
    );
  });

  it('installs from the lockfile only', () => {
    const installs = runs(all).filter((r) => /pnpm install/.test(r));
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install).toContain('--frozen-lockfile');
  });

  it('copies only from earlier stages, and only files that exist', () => {
    dockerfile.stages.forEach((stage, index) => {
      for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY')) {
        const from = /--from=(\S+)/.exec(copy.args)?.[1];
        if (from) {
          expect(stageNames.slice(0, index), `line ${copy.line}`).toContain(from);
          continue;
        }
        const sources = copy.args
          .split(/\s+/)
          .filter((w) => !w.startsWith('--'))
          .slice(0, -1);
        for (const source of sources.filter((s) => s !== '.')) {
          expect(existsSync(join(REPO, source)), `line ${copy.line}: ${source}`).toBe(true);
        }
      }
    });
  });
});

describe('runtime stage', () => {
  const runtime = runtimeStage(dockerfile);

  it('is the last stage', () => {
    expect(dockerfile.stages.at(-1)?.name).toBe(RUNTIME_STAGE);
  });

  it('runs as a numeric non-root user (Kubernetes can only verify runAsNonRoot for numbers)', () => {
    const users = runtime.instructions.filter((i) => i.keyword === 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = (users[0]?.args ?? '').split(':');
    expect(uid).toMatch(/^[1-9]\d*$/);
    expect(gid).toMatch(/^\d+$/);
  });

  it('has tini as PID 1, then the entry point script', () => {
    const entrypoints = runtime.instructions.filter((i) => i.keyword === 'ENTRYPOINT');
    expect(entrypoints).toHaveLength(1);
    const entrypoint = entrypoints[0];
    expect(entrypoint && execForm(entrypoint)).toEqual(['/usr/bin/tini', '--', ENTRYPOINT_IN_IMAGE]);
    expect(runs(runtime.instructions).join('\n')).toMatch(/apt-get install .*\btini\b/);
    const copied = runtime.instructions.find(
      (i) => i.keyword === 'COPY' && i.args.endsWith(ENTRYPOINT_IN_IMAGE),
    );
    expect(copied?.args).toMatch(/^--chmod=0?755 infra\/docker-entrypoint\.sh /);
  });

  it('carries no compilers or package manager sources', () => {
    const installed = runs(runtime.instructions).join('\n');
    for (const tool of ['python3', 'make', 'g++', 'gcc', 'build-essential', 'pnpm']) {
      expect(installed).not.toMatch(new RegExp(`(^|\\s)${tool.replace('+', '\\+')}(\\s|$)`));
    }
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies.filter((c) => c.startsWith('--from=')).every((c) => /--from=build \/out\//.test(c))).toBe(
      true,
    );
  });

  it('starts on `help` when no command is given', () => {
    const cmd = runtime.instructions.find((i) => i.keyword === 'CMD');
    expect(cmd && execForm(cmd)).toEqual(['help']);
  });
});

describe('hadolint rules that apply here', () => {
  it('DL3020: COPY, never ADD', () => {
    expect(all.filter((i) => i.keyword === 'ADD')).toEqual([]);
  });

  it('DL3015/DL3009: apt-get installs without recommends and removes its lists in the same layer', () => {
    for (const run of runs(all).filter((r) => r.includes('apt-get install'))) {
      expect(run).toContain('--no-install-recommends');
      expect(run).toContain('apt-get update');
      expect(run).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/);
    }
  });

  it('DL3000/DL3004: absolute WORKDIR, no sudo', () => {
    for (const workdir of all.filter((i) => i.keyword === 'WORKDIR')) expect(workdir.args).toMatch(/^\//);
    expect(runs(all).some((r) => /\bsudo\b/.test(r))).toBe(false);
  });

  it('DL3025: ENTRYPOINT and CMD in exec form', () => {
    for (const instruction of all.filter((i) => i.keyword === 'ENTRYPOINT' || i.keyword === 'CMD')) {
      expect(execForm(instruction), `line ${instruction.line}`).toBeDefined();
    }
  });
});

describe('ignore file', () => {
  const ignored = readText(join(INFRA, 'Dockerfile.dockerignore'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('keeps host-built modules, build output, VCS data and env files out of the context', () => {
    for (const pattern of ['**/node_modules', '**/dist', '.git', '**/.env', '**/.env.*', 'infra/env/*.env']) {
      expect(ignored).toContain(pattern);
    }
  });

  it('keeps what the build needs', () => {
    for (const needed of [
      'infra/docker-entrypoint.sh',
      'infra/image',
      'pnpm-lock.yaml',
      'apps',
      'packages',
    ]) {
      expect(ignored).not.toContain(needed);
    }
  });
});

describe('entry point', () => {
  const commands = imageCommands();

  it('has one command per deployable app, named after it', () => {
    expect([...commands.keys()].sort()).toEqual(['cli', 'gateway', 'ingest-worker', 'query-worker']);
    for (const [command, { app }] of commands) expect(app).toBe(command);
  });

  it("runs each app's `./main` export from the deployed node_modules", () => {
    expect(entrypointAppsDir()).toBe('/app/node_modules/@quire');
    for (const [command, { app, file }] of commands) {
      const exports = record(packageJson(`apps/${app}`).exports, `${app} exports`);
      const main = record(exports['./main'], `${app} exports ./main`);
      expect(`./${file}`, command).toBe(main.default);
    }
  });

  it('deploys /out to the directory the script reads', () => {
    const copy = runtimeStage(dockerfile).instructions.find(
      (i) => i.keyword === 'COPY' && i.args.includes('/out/'),
    );
    expect(copy?.args).toBe('--from=build /out/ /app/');
  });
});
