/** One run of the LangChain.js baseline, in its own process. */
import { fileURLToPath } from 'node:url';
import { type RunningModelServer, spawnProcess } from '@quire/testkit';
import type { CorpusFile } from '../lib/corpus.js';
import type { LangChainResult, LangChainRun } from './protocol.js';

const SCRIPT = fileURLToPath(new URL('./langchain-pipeline.ts', import.meta.url));

export interface LangChainRunOptions {
  files: readonly CorpusFile[];
  copies: number;
  server: RunningModelServer;
  apiKey: string;
  model: string;
  chunkSize: number;
  chunkOverlap: number;
  /** Called when the child has loaded its modules and starts the pipeline. */
  onStart?: () => void;
}

export async function runLangChain(options: LangChainRunOptions): Promise<LangChainResult> {
  const input: LangChainRun = {
    files: options.files.map(({ path, name, kind }) => ({ path, name, kind })),
    copies: options.copies,
    baseURL: options.server.url,
    apiKey: options.apiKey,
    model: options.model,
    chunkSize: options.chunkSize,
    chunkOverlap: options.chunkOverlap,
  };
  const child = await spawnProcess(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), SCRIPT, JSON.stringify(input)],
    { readyLine: /^START$/, readyTimeoutMs: 60_000, env: { LANGCHAIN_TRACING_V2: 'false' } },
  );
  options.onStart?.();
  const exit = await child.exited;
  const line = child.lines.find((l) => l.stream === 'stdout' && l.text.startsWith('RESULT '));
  if (exit.code !== 0 || line === undefined) {
    throw new Error(
      `the LangChain.js pipeline failed (exit ${exit.code ?? exit.signal}):\n${child.output().slice(-4000)}`,
    );
  }
  return JSON.parse(line.text.slice('RESULT '.length)) as LangChainResult;
}
