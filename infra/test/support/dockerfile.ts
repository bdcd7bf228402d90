/** A small Dockerfile reader: enough to check stages, base images and instructions statically. */

export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface Stage {
  /** `AS <name>`, if any. */
  name: string | undefined;
  /** Base image with global ARGs substituted, e.g. `node:22.21.1-bookworm-slim`. */
  base: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Parser directives such as `syntax`. */
  directives: Map<string, string>;
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Map<string, string>;
  stages: Stage[];
}

const DIRECTIVE = /^#\s*([a-z]+)\s*=\s*(\S+)\s*$/;

export function parseDockerfile(source: string): Dockerfile {
  const directives = new Map<string, string>();
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  const lines = source.split(/\r?\n/);
  let inHeader = true;
  let pending: { text: string; line: number } | undefined;

  const finish = ({ text, line }: { text: string; line: number }) => {
    const match = /^(\S+)\s*(.*)$/s.exec(text.trim());
    if (!match) return;
    const keyword = (match[1] ?? '').toUpperCase();
    const args = (match[2] ?? '').trim();
    if (keyword === 'FROM') {
      const words = args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const base = substitute(words[0] ?? '', globalArgs);
      const name = words[1]?.toUpperCase() === 'AS' ? words[2] : undefined;
      stages.push({ name, base, instructions: [] });
      return;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (keyword !== 'ARG') throw new Error(`line ${line}: ${keyword} before the first FROM`);
      const [key = '', value = ''] = args.split('=', 2);
      globalArgs.set(key, value);
      return;
    }
    stage.instructions.push({ keyword, args, line });
  };

  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    if (inHeader) {
      const directive = DIRECTIVE.exec(trimmed);
      if (directive?.[1] && directive[2]) {
        directives.set(directive[1], directive[2]);
        return;
      }
      inHeader = false;
    }
    if (trimmed.startsWith('#')) return;
    if (trimmed === '' && pending === undefined) return;
    const continued = trimmed.endsWith('\\');
    const body = continued ? trimmed.slice(0, -1) : trimmed;
    pending = pending
      ? { text: `${pending.text} ${body}`, line: pending.line }
      : { text: body, line: index + 1 };
    if (!continued) {
      finish(pending);
      pending = undefined;
    }
  });
  if (pending) finish(pending);
  return { directives, globalArgs, stages };
}

/** Replaces `${NAME}` and `$NAME` with the ARG's value; an unknown ARG is an error. */
export function substitute(value: string, args: ReadonlyMap<string, string>): string {
  return value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => {
    const found = args.get(name);
    if (found === undefined) throw new Error(`ARG ${name} has no default`);
    return found;
  });
}

/** The JSON (exec) form of ENTRYPOINT/CMD/RUN, or undefined for the shell form. */
export function execForm(instruction: Instruction): string[] | undefined {
  if (!instruction.args.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(instruction.args);
  if (!Array.isArray(parsed) || !parsed.every((p): p is string => typeof p === 'string')) {
    throw new Error(`line ${instruction.line}: ${instruction.keyword} is not a list of strings`);
  }
  return parsed;
}

/** ENV instructions of a stage as key/value pairs (`ENV A=1 B=2` form). */
export function stageEnv(stage: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const { keyword, args } of stage.instructions) {
    if (keyword !== 'ENV') continue;
    for (const pair of args.split(/\s+/)) {
      const [key, value] = pair.split('=', 2);
      if (key && value !== undefined) env.set(key, value);
    }
  }
  return env;
}
