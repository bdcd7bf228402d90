/**
 * The `quire` command line: commands, flags, help and errors (commander), each command delegating
 * to its module under `commands/`. `runCli` never exits the process: it returns the exit code.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
// Plain numbers without zod: building the help loads commander and these modules only.
import {
  DEFAULT_CONTEXT_TOKENS,
  MAX_CANDIDATES,
  MAX_CONTEXT_TOKENS,
  MAX_TOP_N,
} from '@quire/contracts/retrieval-limits';
import type { Metadata } from '@quire/core';
import type { CsvFormulas, IngestOcr, QueueName } from '@quire/jobs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { ReportFormat } from './commands/batch.js';
import type { CommandContext, GlobalOptions } from './context.js';
import { ALL_QUEUES, DEFAULT_SAMPLES_DIR, DEMO_QUESTIONS } from './defaults.js';
import type { CliEnv } from './env.js';
import { CliError, errorMessage } from './errors.js';
import { createTerminal, type OutputStream } from './io.js';
import type { QuestionFormat } from './questions.js';

export interface CliIo {
  /**
   * Reads the CLI's settings; called when a command runs, not for `--help`, `--version` or a usage
   * error, which therefore answer whatever the environment holds.
   */
  loadEnv: () => CliEnv | Promise<CliEnv>;
  stdout: OutputStream;
  stderr: OutputStream;
  cwd: string;
  /** Aborted when the user asks the CLI to stop (SIGINT/SIGTERM). */
  signal: AbortSignal;
}

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/**
 * Runs one command line (without `node` and the script) and returns the process exit code. Each
 * command's module (and with it the queue and store libraries) is loaded only when that command
 * runs, so that `--help` and a mistyped flag answer at once.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; a bad command line is a usage error (2).
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : 2;
    }
    if (error instanceof CliError) {
      io.stderr.write(`error: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`error: ${errorMessage(error)}\n`);
    return 1;
  }
}

function buildProgram(io: CliIo, setCode: (code: number) => void): Command {
  const program = new Command('quire')
    .description(
      'Turn document sets into answers: queue documents for ingestion, ask questions with cited sources, run batches and evals, and run Quire locally.',
    )
    .version(version, '-V, --version')
    .option('--url <url>', 'talk to a Quire gateway at this base URL instead of Redis (env QUIRE_URL)')
    .option(
      '--api-key <key>',
      'API key for the gateway; prefer the QUIRE_API_KEY variable, which stays out of process lists',
    )
    .option('--redis-url <url>', 'Redis of the queues (env REDIS_URL, default redis://127.0.0.1:6379)')
    .option('--prefix <prefix>', 'queue key prefix (env QUIRE_QUEUE_PREFIX, default {quire})')
    .option('-t, --tenant <tenant>', 'tenant to work in (env QUIRE_TENANT, default "default")')
    .option(
      '--data-dir <dir>',
      "the workers' data directory, read by `docs list` (env QUIRE_DATA_DIR, default .quire)",
    )
    .option('--no-color', 'plain output without colours (also NO_COLOR)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  const context = async (command: Command): Promise<CommandContext> => {
    const env = await io.loadEnv();
    const { createContext } = await import('./context.js');
    const globals = command.optsWithGlobals<GlobalOptions & { color: boolean }>();
    const term = createTerminal({
      stdout: io.stdout,
      stderr: io.stderr,
      color: globals.color === false ? false : env.color,
    });
    return createContext({ env, term, cwd: io.cwd, signal: io.signal, globals });
  };
  const run =
    <A extends unknown[]>(body: (ctx: CommandContext, ...args: A) => Promise<number>) =>
    async (...args: A) => {
      // commander passes the command itself last.
      const command = args[args.length - 1] as Command;
      const code = await body(await context(command), ...args);
      // An interrupted command exits 128 + SIGINT, as shells expect; `dev` is meant to be stopped
      // that way, and a clean stop is a success.
      setCode(io.signal.aborted && command.name() !== 'dev' ? 130 : code);
    };

  program
    .command('ingest')
    .summary('queue documents for ingestion')
    .description(
      'Queue files, directories (recursively), glob patterns and http(s) URLs for ingestion. Files under a shared root (QUIRE_FILE_ROOTS) are sent as paths; others are uploaded inline.',
    )
    .argument('<inputs...>', 'files, directories, globs (quote them) or URLs')
    .option('-w, --wait', 'follow the jobs with a progress bar per file until they finish')
    .option('--json', 'print the result as JSON')
    .option(
      '-m, --metadata <key=value>',
      'metadata stored with every chunk (repeatable)',
      collectPairs('--metadata'),
    )
    .option('--id <documentId>', 'document id of the only input (default: its file name)')
    .option('--id-prefix <prefix>', 'prepended to every document id, e.g. "handbook/"')
    .option(
      '--password <password>',
      'password of the encrypted PDFs (visible in shell history and the process list: prefer --password-file)',
    )
    .option(
      '--password-file <path>',
      "read the PDF password from the file's first line ('-': standard input)",
    )
    .option('--force', 'ingest again even when this version of a document is already stored')
    .addOption(
      new Option('--ocr <mode>', "OCR of scanned pages and images (default: the workers' QUIRE_OCR)").choices(
        ['auto', 'off', 'force'],
      ),
    )
    .option('--ocr-langs <langs>', 'OCR languages, comma-separated Tesseract names, e.g. eng,fra')
    .addOption(timeoutOption(600))
    .addHelpText(
      'after',
      `
The password travels sealed (QUIRE_SECRET_KEYS) or over the gateway, never in clear in Redis,
and is never printed or logged.

Examples:
  quire ingest ./docs --wait
  quire ingest secret.pdf --password-file ~/.secret/report.pw --wait
  quire ingest ./docs --force --wait
  quire ingest ./scans --ocr-langs eng,fra --wait
  quire ingest 'reports/**/*.pdf' -m team=finance -m year=2024 --wait
  quire ingest https://example.com/guide.html --id guide`,
    )
    .action(
      run(
        async (
          ctx,
          inputs: string[],
          opts: {
            wait?: boolean;
            json?: boolean;
            metadata?: Metadata;
            id?: string;
            idPrefix?: string;
            password?: string;
            passwordFile?: string;
            force?: boolean;
            ocr?: 'auto' | 'off' | 'force';
            ocrLangs?: string;
            timeout: number;
          },
        ) =>
          (await import('./commands/ingest.js')).runIngest(ctx, inputs, {
            ...ocrOption(opts.ocr, opts.ocrLangs),
            wait: opts.wait === true,
            json: opts.json === true,
            metadata: opts.metadata ?? {},
            timeoutMs: opts.timeout * 1000,
            force: opts.force === true,
            ...(opts.password !== undefined ? { password: opts.password } : {}),
            ...(opts.passwordFile !== undefined ? { passwordFile: opts.passwordFile } : {}),
            ...(opts.id !== undefined ? { id: opts.id } : {}),
            ...(opts.idPrefix !== undefined ? { idPrefix: opts.idPrefix } : {}),
          }),
      ),
    );

  const ask = program
    .command('ask')
    .summary('ask a question; prints the answer with its numbered sources')
    .description(
      "Ask one question over the tenant's documents and print the answer with its numbered sources (document, page).",
    )
    .argument('<question...>', 'the question (quotes optional)')
    .option('--json', 'print the whole result (answer, citations, passages, scores, timings) as JSON');
  addQueryOptions(ask)
    .addOption(timeoutOption(60))
    .addHelpText(
      'after',
      `
Examples:
  quire ask "How often does the Harbor Light flash?"
  quire ask --doc solar-system-field-guide.pdf --top-n 3 "Which planet has a day longer than its year?"`,
    );
  ask.action(
    run(async (ctx, words: string[], opts: QueryFlags & { json?: boolean; timeout: number }) =>
      (await import('./commands/ask.js')).runAsk(ctx, words.join(' '), {
        ...queryFlags(opts),
        json: opts.json === true,
        timeoutMs: opts.timeout * 1000,
      }),
    ),
  );

  const batch = program
    .command('batch')
    .summary('answer a file of questions as one batch job')
    .description(
      'Answer many questions as one batch job and write the report. Questions file: .txt (one per line), .jsonl ({"question", "id"?}) or .csv (header with question[,id]).',
    )
    .argument('<questions-file>', 'the questions')
    .option('-o, --out <file>', 'write the report here (.jsonl or .csv); default: JSON Lines on stdout')
    .addOption(
      new Option('--format <format>', 'report format (default: from --out)').choices(['jsonl', 'csv']),
    )
    .addOption(
      new Option(
        '--csv-formulas <mode>',
        "CSV cells that start with = + - @ (formulas in a spreadsheet): 'escape' puts an apostrophe before them, 'keep' writes them as they are",
      )
        .choices(['escape', 'keep'])
        .default('escape'),
    )
    .addOption(
      new Option(
        '--questions-format <format>',
        'questions file format (default: from its extension)',
      ).choices(['txt', 'jsonl', 'csv']),
    )
    .option('--name <name>', 'a name for the batch (default: the file name)')
    .option('--include-passages', "put each answer's passages in the report (JSON Lines)")
    .option(
      '--include-candidates',
      'put the fused candidates before reranking (ids, scores, ranks) in the report (JSON Lines)',
    );
  addQueryOptions(batch)
    .addOption(timeoutOption(1800))
    .addHelpText(
      'after',
      `
Examples:
  quire batch questions.txt --out results.jsonl
  quire batch eval.csv --out results.csv --top-n 3`,
    );
  batch.action(
    run(
      async (
        ctx,
        file: string,
        opts: QueryFlags & {
          out?: string;
          format?: ReportFormat;
          csvFormulas: CsvFormulas;
          questionsFormat?: QuestionFormat;
          name?: string;
          includePassages?: boolean;
          includeCandidates?: boolean;
          timeout: number;
        },
      ) =>
        (await import('./commands/batch.js')).runBatch(ctx, resolve(ctx.cwd, file), {
          ...queryFlags(opts),
          ...(opts.out !== undefined ? { out: resolve(ctx.cwd, opts.out) } : {}),
          ...(opts.format !== undefined ? { format: opts.format } : {}),
          csvFormulas: opts.csvFormulas,
          ...(opts.questionsFormat !== undefined ? { questionsFormat: opts.questionsFormat } : {}),
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          includePassages: opts.includePassages === true,
          includeCandidates: opts.includeCandidates === true,
          timeoutMs: opts.timeout * 1000,
        }),
    ),
  );

  program
    .command('eval')
    .summary('measure retrieval and answers on a set of questions with known answers')
    .description(
      'Run an eval set in the BEIR layout (corpus.jsonl, queries.jsonl, qrels/<split>.tsv, optional answers.jsonl) on the workers: the corpus is ingested into a tenant of its own (eval-<id>, or --eval-tenant), every question goes through lexical search, dense search, their fusion and the reranker, and the answerer; the report compares the stages (recall@1/5/10/20, MRR@10, nDCG@10), answer containment, not-found rates and latency per stage. With a model API the token estimate is printed and --max-tokens is required.',
    )
    .argument('<set-dir>', 'the eval set directory')
    .option(
      '--no-corpus',
      "do not ingest corpus.jsonl: search the tenant's documents (qrels name their document ids)",
    )
    .option('--split <name>', 'qrels file to read: qrels/<name>.tsv', 'test')
    .option(
      '--eval-tenant <tenant>',
      'tenant to ingest into and search (default: eval-<id>, or --tenant with --no-corpus)',
    )
    .option('--cleanup', "delete the corpus's documents from the tenant once the report is made")
    .option('--no-answers', 'measure retrieval only (no chat call per question)')
    .option('--include-passages', "put each answer's passages in the per-question rows")
    .option(
      '--include-candidates',
      'put the fused candidates before reranking (ids, scores, ranks) in the per-question rows',
    )
    .option(
      '--top-n <n>',
      `passages given to the answer (1-${MAX_TOP_N}; default: the workers' QUIRE_TOP_N)`,
      integer(1, MAX_TOP_N),
    )
    .option(
      '--candidates <n>',
      `candidates retrieved per search (1-${MAX_CANDIDATES}; default: QUIRE_CANDIDATES)`,
      integer(1, MAX_CANDIDATES),
    )
    .option(
      '--context-tokens <n>',
      `token budget of the answer's passages (1-${MAX_CONTEXT_TOKENS}; default: the workers' QUIRE_CONTEXT_TOKENS, ${DEFAULT_CONTEXT_TOKENS} unless set)`,
      integer(1, MAX_CONTEXT_TOKENS),
    )
    .option(
      '--max-tokens <n>',
      'refuse the eval when its token estimate is above this',
      integer(1, Number.MAX_SAFE_INTEGER),
    )
    .option('--name <name>', 'a name for the eval (default: the directory name)')
    .option('-o, --out <file>', 'write the report here (.md, .json or .csv); default: Markdown on stdout')
    .addOption(
      new Option('--format <format>', 'report format (default: from --out)').choices([
        'markdown',
        'json',
        'csv',
      ]),
    )
    .addOption(
      new Option('--csv-formulas <mode>', "CSV cells that start with = + - @: 'escape' (default) or 'keep'")
        .choices(['escape', 'keep'])
        .default('escape'),
    )
    .addOption(timeoutOption(3600))
    .addHelpText(
      'after',
      `
Examples:
  quire eval bench/eval-sets/en --out report.md
  quire eval ./my-set --out rows.csv --include-candidates --cleanup
  quire eval ./qrels-only --no-corpus --tenant acme --no-answers --max-tokens 200000`,
    )
    .action(
      run(
        async (
          ctx,
          dir: string,
          opts: {
            corpus: boolean;
            split: string;
            evalTenant?: string;
            cleanup?: boolean;
            answers: boolean;
            includePassages?: boolean;
            includeCandidates?: boolean;
            topN?: number;
            candidates?: number;
            contextTokens?: number;
            maxTokens?: number;
            name?: string;
            out?: string;
            format?: 'markdown' | 'json' | 'csv';
            csvFormulas: CsvFormulas;
            timeout: number;
          },
        ) =>
          (await import('./commands/eval.js')).runEval(ctx, resolve(ctx.cwd, dir), {
            corpus: opts.corpus,
            split: opts.split,
            ...(opts.evalTenant !== undefined ? { evalTenant: opts.evalTenant } : {}),
            cleanup: opts.cleanup === true,
            answers: opts.answers,
            includePassages: opts.includePassages === true,
            includeCandidates: opts.includeCandidates === true,
            ...(opts.topN !== undefined ? { topN: opts.topN } : {}),
            ...(opts.candidates !== undefined ? { candidates: opts.candidates } : {}),
            ...(opts.contextTokens !== undefined ? { contextTokens: opts.contextTokens } : {}),
            ...(opts.maxTokens !== undefined ? { maxTokens: opts.maxTokens } : {}),
            ...(opts.name !== undefined ? { name: opts.name } : {}),
            ...(opts.out !== undefined ? { out: resolve(ctx.cwd, opts.out) } : {}),
            ...(opts.format !== undefined ? { format: opts.format } : {}),
            csvFormulas: opts.csvFormulas,
            timeoutMs: opts.timeout * 1000,
          }),
      ),
    );

  const docs = program
    .command('docs')
    .summary('list or delete documents')
    .description("List or delete the tenant's documents.");
  docs
    .command('list')
    .description(
      "List the tenant's documents with their chunk counts (reads the vector store the workers write).",
    )
    .option('--json', 'print as JSON')
    .action(
      run(async (ctx, opts: { json?: boolean }) =>
        (await import('./commands/docs.js')).runDocsList(ctx, { json: opts.json === true }),
      ),
    );
  docs
    .command('delete')
    .description('Delete documents (every chunk of every version) by id.')
    .argument('<documentIds...>', 'ids as shown by `quire docs list`')
    .option('-w, --wait', 'wait until the deletions are done')
    .option('--json', 'print as JSON')
    .addOption(timeoutOption(120))
    .action(
      run(async (ctx, ids: string[], opts: { wait?: boolean; json?: boolean; timeout: number }) =>
        (await import('./commands/docs.js')).runDocsDelete(ctx, ids, {
          wait: opts.wait === true,
          json: opts.json === true,
          timeoutMs: opts.timeout * 1000,
        }),
      ),
    );

  program
    .command('status')
    .summary('queue counts, failed jobs and their reasons')
    .description('Show job counts per queue and state, and the most recent failed jobs with their reasons.')
    .option('--json', 'print as JSON')
    .addOption(
      new Option('-q, --queue <name>', 'only this queue (repeatable)')
        .choices([...ALL_QUEUES])
        .argParser((value: string, previous: QueueName[] | undefined) => {
          if (!(ALL_QUEUES as readonly string[]).includes(value)) {
            throw new InvalidArgumentError(`Allowed choices are ${ALL_QUEUES.join(', ')}.`);
          }
          return [...(previous ?? []), value as QueueName];
        }),
    )
    .option('--limit <n>', 'failed jobs listed at most', integer(0, 1000), 20)
    .option('--retry-failed', 'move the failed jobs of the queues shown (every tenant) back to waiting')
    .action(
      run(async (ctx, opts: { json?: boolean; queue?: QueueName[]; limit: number; retryFailed?: boolean }) =>
        (await import('./commands/status.js')).runStatus(ctx, {
          json: opts.json === true,
          queues: opts.queue ?? [],
          limit: opts.limit,
          retryFailed: opts.retryFailed === true,
        }),
      ),
    );

  program
    .command('dev')
    .summary('run the workers (and gateway) locally in one process tree')
    .description(
      'Run the ingest and query workers (and the gateway with --gateway) from their builds, on the embedded defaults, with their log lines prefixed. Ctrl-C stops them all.',
    )
    .option('--gateway', 'also start the HTTP gateway')
    .option(
      '--root <dir>',
      'a directory the workers may read files from (repeatable; default QUIRE_FILE_ROOTS or the current directory)',
      collectStrings,
    )
    .option('--grace <seconds>', 'time given to in-flight jobs when stopping', integer(0, 3600), 30)
    .addHelpText(
      'after',
      `
The gateway (--gateway):
  listens on HOST:PORT, default 127.0.0.1:8080; when PORT is not set and 8080 is taken, on a free
  port instead. The summary prints the URL, the console (<url>/console) and the API docs (<url>/docs).
  Without QUIRE_API_KEYS, a development API key for the tenant (--tenant, QUIRE_TENANT) is created
  once and kept in <data dir>/dev-api-key (default .quire/dev-api-key, readable by you only); it is
  never printed: export QUIRE_API_KEY="$(cat .quire/dev-api-key)".

Queues:
  The services consume queue prefix QUIRE_QUEUE_PREFIX (--prefix, default {quire}) on REDIS_URL.
  Workers already consuming that prefix on the same Redis (someone else's quire dev) would share
  your jobs: quire dev warns and suggests a prefix of this checkout's own.

Logs:
  The services log at LOG_LEVEL (default info), pretty-printed (LOG_FORMAT=json for JSON lines);
  LOG_LEVEL=warn quire dev shows only warnings and errors.

Stopping:
  Ctrl-C or SIGTERM stops every service gracefully (--grace). The services also stop when quire dev
  is killed (any signal, SIGKILL included), and quire dev stops when the process that launched it
  (pnpm) is killed; started straight from an interactive shell, it stops with its terminal.

Examples:
  quire dev --gateway
  PORT=9090 QUIRE_QUEUE_PREFIX='{quire-mine}' quire dev --gateway`,
    )
    .action(
      run(async (ctx, opts: { gateway?: boolean; root?: string[]; grace: number }) =>
        (await import('./commands/dev.js')).runDev(ctx, {
          gateway: opts.gateway === true,
          roots: (opts.root ?? []).map((r) => resolve(ctx.cwd, r)),
          graceMs: opts.grace * 1000,
        }),
      ),
    );

  program
    .command('demo')
    .summary('one-command tour: start everything, ingest samples, ask questions, clean up')
    .description(
      'Find or start a Redis, start both workers with a fresh data directory and queue prefix, ingest the sample documents, ask a few questions, print the answers with their sources, then stop and remove everything it started.',
    )
    .option('--samples <dir>', 'documents to ingest', DEFAULT_SAMPLES_DIR)
    .option('--question <text>', 'ask this instead of the built-in questions (repeatable)', collectStrings)
    .option('--keep', 'keep the data directory under .quire/demo/')
    .option('--verbose', "print the workers' log lines")
    .option('--redis-server <path>', 'redis-server to start when no Redis answers', 'redis-server')
    .addOption(timeoutOption(120))
    .action(
      run(
        async (
          ctx,
          opts: {
            samples: string;
            question?: string[];
            keep?: boolean;
            verbose?: boolean;
            redisServer: string;
            timeout: number;
          },
        ) =>
          (await import('./commands/demo.js')).runDemo(ctx, {
            samplesDir: resolve(ctx.cwd, opts.samples),
            questions: opts.question ?? DEMO_QUESTIONS,
            keep: opts.keep === true,
            verbose: opts.verbose === true,
            redisBinary: opts.redisServer,
            timeoutMs: opts.timeout * 1000,
          }),
      ),
    );

  // Every subcommand reports errors the same way and never exits by itself.
  for (const command of allCommands(program)) {
    command
      .exitOverride()
      .showHelpAfterError('(run with --help for usage)')
      .configureOutput({
        writeOut: (text) => io.stdout.write(text),
        writeErr: (text) => io.stderr.write(text),
      });
  }
  return program;
}

interface QueryFlags {
  doc?: string[];
  source?: string[];
  where?: Metadata;
  topN?: number;
  candidates?: number;
  contextTokens?: number;
}

function addQueryOptions(command: Command): Command {
  return command
    .option('--doc <documentId>', 'only passages of this document (repeatable)', collectStrings)
    .option(
      '--source <name>',
      'only passages of documents with this source name (repeatable)',
      collectStrings,
    )
    .option(
      '--where <key=value>',
      'only documents whose metadata has key = value (repeatable)',
      collectPairs('--where'),
    )
    .option(
      '--top-n <n>',
      `passages kept after reranking (1-${MAX_TOP_N}; default: the workers' QUIRE_TOP_N)`,
      integer(1, MAX_TOP_N),
    )
    .option(
      '--candidates <n>',
      `candidates retrieved before reranking (1-${MAX_CANDIDATES}; default: QUIRE_CANDIDATES)`,
      integer(1, MAX_CANDIDATES),
    )
    .option(
      '--context-tokens <n>',
      `token budget of the passages given to the answer (1-${MAX_CONTEXT_TOKENS}; default: the workers' QUIRE_CONTEXT_TOKENS); passages that do not fit are left out, and the result says so`,
      integer(1, MAX_CONTEXT_TOKENS),
    );
}

function queryFlags(opts: QueryFlags) {
  return {
    documentIds: opts.doc ?? [],
    sourceNames: opts.source ?? [],
    metadata: opts.where ?? {},
    ...(opts.topN !== undefined ? { topN: opts.topN } : {}),
    ...(opts.candidates !== undefined ? { candidates: opts.candidates } : {}),
    ...(opts.contextTokens !== undefined ? { contextTokens: opts.contextTokens } : {}),
  };
}

/** `--ocr` and `--ocr-langs` as the job's OCR settings; a language list that is not one is a usage error. */
export function ocrOption(
  mode: 'auto' | 'off' | 'force' | undefined,
  langs: string | undefined,
): { ocr?: IngestOcr } {
  if (mode === undefined && langs === undefined) return {};
  const list = langs?.split(',').map((lang) => lang.trim());
  if (
    list !== undefined &&
    (list.length > 8 || list.some((lang) => !/^[A-Za-z][A-Za-z0-9_]{1,31}$/.test(lang)))
  ) {
    throw new CliError(
      `--ocr-langs: expected up to 8 Tesseract language names joined by commas, such as eng,fra; got ${JSON.stringify(langs)}`,
      2,
    );
  }
  return { ocr: { ...(mode === undefined ? {} : { mode }), ...(list === undefined ? {} : { langs: list }) } };
}

function timeoutOption(defaultSeconds: number): Option {
  return new Option('--timeout <seconds>', 'longest wait')
    .default(defaultSeconds)
    .argParser(integer(1, 86_400));
}

/** A parser for an integer flag in `[min, max]`. */
export function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

function collectStrings(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A parser for repeatable `key=value` flags; values stay strings (metadata filters compare types). */
export function collectPairs(flag: string): (value: string, previous: Metadata | undefined) => Metadata {
  return (value, previous) => {
    const at = value.indexOf('=');
    if (at <= 0) throw new InvalidArgumentError(`expected key=value, e.g. ${flag} team=finance.`);
    const key = value.slice(0, at).trim();
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(key)) {
      throw new InvalidArgumentError('metadata keys are 1-64 letters, digits, "_", "." or "-".');
    }
    // The other rules (value length, number of keys) are checked by the command with the shared schema.
    return { ...(previous ?? {}), [key]: value.slice(at + 1) };
  };
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}
