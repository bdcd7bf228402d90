/** What the ingestion benchmark and its LangChain.js child process exchange. */
import { z } from 'zod';

export const LangChainRunSchema = z.object({
  files: z.array(z.object({ path: z.string(), name: z.string(), kind: z.enum(['text', 'markdown', 'pdf']) })),
  /** How many times each file is ingested (as distinct documents). */
  copies: z.number().int().positive(),
  baseURL: z.string().url(),
  apiKey: z.string().min(1),
  model: z.string().min(1),
  /** Splitter settings, in characters. */
  chunkSize: z.number().int().positive(),
  chunkOverlap: z.number().int().min(0),
});
export type LangChainRun = z.infer<typeof LangChainRunSchema>;

export interface LangChainResult {
  docs: number;
  pages: number;
  chunks: number;
  vectors: number;
  ms: { load: number; split: number; embedStore: number; total: number };
  peakRssMb: number;
  /** CPU seconds (user + system) the pipeline used. */
  cpuSeconds: number;
}
