/**
 * The baseline: the ingestion a LangChain.js user would write, run as its own process (as the user's
 * script would be) so that it shares nothing with the benchmark's model server.
 *
 * Load every file (text as is, PDFs with pdf-parse, one Document per page as LangChain's PDFLoader
 * makes them) → RecursiveCharacterTextSplitter → OpenAIEmbeddings pointed at the model server →
 * MemoryVectorStore.addDocuments. This is the shape of LangChain's own RAG tutorial (load all, split
 * all, add all), the faster of the two obvious shapes: one `addDocuments` call lets OpenAIEmbeddings
 * send its batches concurrently, where a per-file loop would wait for each file's embeddings.
 *
 * Input: one JSON argument (see `LangChainRunSchema`). Output: one line `RESULT <json>` on stdout.
 */
import { readFile } from 'node:fs/promises';
import { MemoryVectorStore } from '@langchain/classic/vectorstores/memory';
import { Document } from '@langchain/core/documents';
import { OpenAIEmbeddings } from '@langchain/openai';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { PDFParse } from 'pdf-parse';
import { type LangChainResult, type LangChainRun, LangChainRunSchema } from './protocol.js';

async function loadFile(file: LangChainRun['files'][number], copy: number): Promise<Document[]> {
  const source = copy === 0 ? file.name : `${file.name}#${copy}`;
  const bytes = await readFile(file.path);
  if (file.kind !== 'pdf')
    return [new Document({ pageContent: bytes.toString('utf8'), metadata: { source } })];
  const parser = new PDFParse({ data: new Uint8Array(bytes) });
  try {
    const result = await parser.getText();
    return result.pages.map(
      (page) => new Document({ pageContent: page.text, metadata: { source, loc: { pageNumber: page.num } } }),
    );
  } finally {
    await parser.destroy();
  }
}

async function run(input: LangChainRun): Promise<LangChainResult> {
  let peakRss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const docs: Document[] = [];
  for (let copy = 0; copy < input.copies; copy++) {
    for (const file of input.files) docs.push(...(await loadFile(file, copy)));
  }
  const t1 = performance.now();
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: input.chunkSize,
    chunkOverlap: input.chunkOverlap,
  });
  const splits = await splitter.splitDocuments(docs);
  const t2 = performance.now();
  const embeddings = new OpenAIEmbeddings({
    model: input.model,
    apiKey: input.apiKey,
    configuration: { baseURL: input.baseURL },
  });
  const store = new MemoryVectorStore(embeddings);
  await store.addDocuments(splits);
  const t3 = performance.now();
  clearInterval(rssTimer);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  return {
    docs: input.files.length * input.copies,
    pages: docs.length,
    chunks: splits.length,
    vectors: store.memoryVectors.length,
    ms: { load: t1 - t0, split: t2 - t1, embedStore: t3 - t2, total: t3 - t0 },
    peakRssMb: peakRss / 2 ** 20,
    cpuSeconds: (() => {
      const used = process.cpuUsage(cpu);
      return (used.user + used.system) / 1e6;
    })(),
  };
}

const input = LangChainRunSchema.parse(JSON.parse(process.argv[2] ?? 'null'));
// Every module is loaded by now: the parent starts its clock on this line.
process.stdout.write('START\n');
const result = await run(input);
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
