/** The image's commands, as its entry point script (infra/docker-entrypoint.sh) dispatches them. */
import { join } from 'node:path';
import { type AppName, isAppName } from './apps.js';
import { type Dockerfile, parseDockerfile, type Stage, stageEnv } from './dockerfile.js';
import { INFRA, readText } from './files.js';

export const ENTRYPOINT_SCRIPT = join(INFRA, 'docker-entrypoint.sh');
/** Where the Dockerfile installs the script. */
export const ENTRYPOINT_IN_IMAGE = '/usr/local/bin/quire-entrypoint';

export interface ImageCommand {
  app: AppName;
  /** The file Node runs, relative to the app's package, e.g. `dist/main.js`. */
  file: string;
}

/** `name) exec node "$apps/<app>/<file>" "$@" ;;` arms of the script's `case`. */
export function imageCommands(): Map<string, ImageCommand> {
  const source = readText(ENTRYPOINT_SCRIPT);
  const commands = new Map<string, ImageCommand>();
  for (const match of source.matchAll(
    /^\s*([a-z][a-z-]*)\) exec node "\$apps\/([a-z-]+)\/([^"]+)" "\$@" ;;$/gm,
  )) {
    const [, command = '', app = '', file = ''] = match;
    if (!isAppName(app)) throw new Error(`docker-entrypoint.sh: command ${command} runs unknown app ${app}`);
    commands.set(command, { app, file });
  }
  return commands;
}

/** The directory the script calls `$apps`. */
export function entrypointAppsDir(): string | undefined {
  return /^apps=(\S+)$/m.exec(readText(ENTRYPOINT_SCRIPT))?.[1];
}

export const DOCKERFILE = join(INFRA, 'Dockerfile');
/** The stage compose builds and registries get. */
export const RUNTIME_STAGE = 'runtime';

export function readDockerfile(): Dockerfile {
  return parseDockerfile(readText(DOCKERFILE));
}

export function runtimeStage(dockerfile: Dockerfile = readDockerfile()): Stage {
  const stage = dockerfile.stages.find((s) => s.name === RUNTIME_STAGE);
  if (!stage) throw new Error(`infra/Dockerfile has no stage named ${RUNTIME_STAGE}`);
  return stage;
}

/** Variables the image itself sets (the runtime stage's ENV): every container starts with them. */
export function imageEnv(): Record<string, string> {
  return Object.fromEntries(stageEnv(runtimeStage()));
}
