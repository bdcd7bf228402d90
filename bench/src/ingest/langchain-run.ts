/** One run of the LangChain.js baseline, in its own process. */
import { fileURLToPath } from 'node:url';
import { type RunningModelServer, spawnProcess } from '@quire/testkit';
import type { CorpusFile } from '../lib/corpus.js';
import { reapedChildrenCpuSeconds, treeCpuSeconds } from '../lib/proc.js';
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
  /** Called once the pipeline's process has exited. */
  onEnd?: () => void;
}

/** The pipeline's own report, with its CPU as measured from outside over its whole process tree. */
export interface LangChainRunResult extends LangChainResult {
  /**
   * CPU seconds of the pipeline's process tree from its first step to its exit (module loading
   * before it excluded), measured from outside: the process and any child it ran.
   */
  treeCpuSeconds: number;
  /** The same by phase (load, split, embedStore), from samples every 100 ms placed on its phase times. */
  treeCpuByPhase: { load: number; split: number; embedStore: number };
}

/** CPU of `pid`'s tree at `ms` since `t0`, by linear interpolation between samples. */
function cpuAt(samples: readonly { ms: number; cpu: number }[], ms: number): number {
  let before = samples[0]!;
  for (const sample of samples) {
    if (sample.ms >= ms) {
      const span = sample.ms - before.ms;
      return span <= 0 ? sample.cpu : before.cpu + ((sample.cpu - before.cpu) * (ms - before.ms)) / span;
    }
    before = sample;
  }
  return before.cpu;
}

export async function runLangChain(options: LangChainRunOptions): Promise<LangChainRunResult> {
  const input: LangChainRun = {
    files: options.files.map(({ path, name, kind }) => ({ path, name, kind })),
    copies: options.copies,
    baseURL: options.server.url,
    apiKey: options.apiKey,
    model: options.model,
    chunkSize: options.chunkSize,
    chunkOverlap: options.chunkOverlap,
  };
  const reapedBefore = reapedChildrenCpuSeconds();
  const child = await spawnProcess(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), SCRIPT, JSON.stringify(input)],
    { readyLine: /^START$/, readyTimeoutMs: 60_000, env: { LANGCHAIN_TRACING_V2: 'false' } },
  );
  const t0 = performance.now();
  const startupCpu = treeCpuSeconds([child.pid]);
  const samples = [{ ms: 0, cpu: 0 }];
  const timer = setInterval(() => {
    const cpu = treeCpuSeconds([child.pid]);
    if (cpu > 0) samples.push({ ms: performance.now() - t0, cpu: cpu - startupCpu });
  }, 100);
  options.onStart?.();
  const exit = await child.exited.finally(() => clearInterval(timer));
  options.onEnd?.();
  // The child has been waited for: its tree's CPU is now in this process's cutime/cstime.
  const total = reapedChildrenCpuSeconds() - reapedBefore - startupCpu;
  const line = child.lines.find((l) => l.stream === 'stdout' && l.text.startsWith('RESULT '));
  if (exit.code !== 0 || line === undefined) {
    throw new Error(
      `the LangChain.js pipeline failed (exit ${exit.code ?? exit.signal}):\n${child.output().slice(-4000)}`,
    );
  }
  const result = JSON.parse(line.text.slice('RESULT '.length)) as LangChainResult;
  const load = cpuAt(samples, result.ms.load);
  const split = cpuAt(samples, result.ms.load + result.ms.split) - load;
  return {
    ...result,
    treeCpuSeconds: total,
    treeCpuByPhase: { load, split, embedStore: total - load - split },
  };
}
