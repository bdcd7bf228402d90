/**
 * A Qdrant-compatible HTTP test double: the REST endpoints Quire's Qdrant adapter calls, in
 * memory, with Qdrant's response envelope, error bodies and status codes, plus recorded requests
 * and injectable faults. It is not a Qdrant: no HNSW (search is exact), no persistence, one shard.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { z } from 'zod';
import { type DenseVectorConfig, DoubleCollection, type SparseVectorConfig } from './collection.js';
import { QdrantDoubleError } from './errors.js';
import {
  countSchema,
  createCollectionSchema,
  createIndexSchema,
  deleteSchema,
  describeIssues,
  namedVectorsSchema,
  querySchema,
  scrollSchema,
  upsertSchema,
  vectorParamsSchema,
} from './schemas.js';

export interface QdrantDoubleOptions {
  /** When set, every request must carry it in the `api-key` header, else 401. Default: no auth. */
  apiKey?: string;
  /** Version reported by `GET /`. Default `'1.18.0'`. */
  version?: string;
  /** Largest accepted request body, in bytes (Qdrant's default limit is 32 MiB). Default 32 MiB. */
  maxBodyBytes?: number;
}

export type QdrantDoubleFaultAction =
  /** Answer with this status and a Qdrant error body (`{status: {error}}`), plus optional headers. */
  | { kind: 'status'; status: number; message?: string; headers?: Record<string, string> }
  /** Answer with exactly this status and JSON body: a stale or surprising answer, e.g. to stage a race. */
  | { kind: 'respond'; status: number; body: unknown; headers?: Record<string, string> }
  /** Never answer (until the double closes): a stuck server, for client timeouts. */
  | { kind: 'hang' }
  /** Destroy the connection without an answer: a crashed server or a broken network. */
  | { kind: 'reset' };

export interface QdrantDoubleFault {
  /** HTTP method the fault applies to (upper case). Default: every method. */
  method?: string;
  /** Path (exact string, or a pattern) the fault applies to. Default: every path. */
  path?: string | RegExp;
  /** How many matching requests it answers before it lifts. Default: unlimited. */
  times?: number;
  action: QdrantDoubleFaultAction;
}

export interface QdrantDoubleRequest {
  method: string;
  /** Path without the query string, e.g. `/collections/c/points`. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body; undefined when there was none. */
  body: unknown;
  /** Status answered; undefined while unanswered (or for a hang/reset fault). */
  status: number | undefined;
}

export interface QdrantDoubleStats {
  /** Every request received, in arrival order. */
  readonly requests: readonly QdrantDoubleRequest[];
  /** Forgets the recorded requests (the stored data stays). */
  reset(): void;
}

export interface QdrantDouble {
  /** Base URL, e.g. `http://127.0.0.1:54321`. */
  readonly url: string;
  readonly stats: QdrantDoubleStats;
  /** Adds a fault; faults are tried in the order they were added. */
  injectFault(fault: QdrantDoubleFault): void;
  clearFaults(): void;
  /** Stops the server, dropping any hung request. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 32 * 1024 * 1024;
/** Characters Qdrant refuses in a collection name (it becomes a directory name). */
const INVALID_NAME_CHARS = new Set(['<', '>', ':', '"', '/', '\\', '|', '?', '*', '\0', '\u001f']);

interface ActiveFault extends QdrantDoubleFault {
  remaining: number;
}

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    throw new QdrantDoubleError(400, `Format error in JSON body: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is read and dropped, so that the 413 can still be answered.
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > limit) reject(new QdrantDoubleError(413, `Payload too large: more than ${limit} bytes`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/** Starts a double on 127.0.0.1 and a free port. */
export async function startQdrantDouble(options: QdrantDoubleOptions = {}): Promise<QdrantDouble> {
  const version = options.version ?? '1.18.0';
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const collections = new Map<string, DoubleCollection>();
  const requests: QdrantDoubleRequest[] = [];
  let faults: ActiveFault[] = [];
  const sockets = new Set<Socket>();

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };

  const collectionOr404 = (name: string): DoubleCollection => {
    const collection = collections.get(name);
    if (!collection) throw new QdrantDoubleError(404, `Not found: Collection \`${name}\` doesn't exist!`);
    return collection;
  };

  const updateResult = (operation: number, wait: boolean) => ({
    operation_id: operation,
    status: wait ? 'completed' : 'acknowledged',
  });

  /** Returns the `result` of the envelope, or throws a QdrantDoubleError. */
  const route = (method: string, path: string, query: URLSearchParams, body: unknown): unknown => {
    const match = /^\/collections\/([^/]+)(\/.*)?$/.exec(path);
    if (!match) throw new QdrantDoubleError(404, '');
    const name = decodeURIComponent(match[1]!);
    const rest = match[2] ?? '';
    // The double applies every update synchronously, so `wait` only changes the reported status.
    const wait = query.get('wait') === 'true';

    if (rest === '/exists' && method === 'GET') return { exists: collections.has(name) };
    if (rest === '' && method === 'GET') return describeCollection(collectionOr404(name));
    if (rest === '' && method === 'PUT') {
      if (name.length === 0 || name.length > 255 || [...name].some((char) => INVALID_NAME_CHARS.has(char))) {
        throw new QdrantDoubleError(400, `Wrong input: Invalid collection name \`${name}\``);
      }
      const request = parseBody(createCollectionSchema, body);
      if (collections.has(name)) {
        throw new QdrantDoubleError(409, `Already exists: Collection \`${name}\` already exists!`);
      }
      // Qdrant's two forms: one unnamed vector (`{size, distance}`) or a map of named ones.
      const dense = new Map<string, DenseVectorConfig>();
      const single = vectorParamsSchema.safeParse(request.vectors);
      const unnamed = single.success;
      if (single.success) {
        dense.set('', single.data);
      } else {
        const named = namedVectorsSchema.safeParse(request.vectors ?? {});
        for (const [vectorName, params] of Object.entries(named.success ? named.data : {})) {
          dense.set(vectorName, params);
        }
      }
      const sparse = new Map<string, SparseVectorConfig>();
      for (const [vectorName, params] of Object.entries(request.sparse_vectors ?? {})) {
        if (dense.has(vectorName)) {
          throw new QdrantDoubleError(
            400,
            `Wrong input: vector name \`${vectorName}\` is both dense and sparse`,
          );
        }
        sparse.set(vectorName, { modifier: params.modifier ?? 'none' });
      }
      collections.set(name, new DoubleCollection(name, dense, sparse, unnamed));
      return true;
    }
    if (rest === '' && method === 'DELETE') return collections.delete(name);

    const collection = collectionOr404(name);
    if (rest === '/index' && method === 'PUT') {
      const request = parseBody(createIndexSchema, body);
      const schema = request.field_schema;
      collection.payloadIndexes.set(request.field_name, {
        dataType: typeof schema === 'string' ? schema : schema.type,
        params: typeof schema === 'string' ? undefined : { ...schema },
      });
      return updateResult(collection.nextOperation(), wait);
    }
    if (rest === '/points' && method === 'PUT') {
      const request = parseBody(upsertSchema, body);
      const operation = collection.nextOperation();
      collection.upsert(operation, request.points);
      return updateResult(operation, wait);
    }
    if (rest === '/points/query' && method === 'POST') {
      const request = parseBody(querySchema, body);
      const vector = 'nearest' in request.query ? request.query.nearest : request.query;
      return {
        points: collection.query({
          query: vector,
          using: request.using ?? '',
          filter: request.filter,
          limit: request.limit ?? 10,
          offset: request.offset ?? 0,
          scoreThreshold: request.score_threshold,
          withPayload: request.with_payload,
          withVector: request.with_vector ?? false,
        }),
      };
    }
    if (rest === '/points/count' && method === 'POST') {
      const request = parseBody(countSchema, body);
      return { count: collection.count(request.filter) };
    }
    if (rest === '/points/scroll' && method === 'POST') {
      const request = parseBody(scrollSchema, body);
      return collection.scroll({
        offset: request.offset,
        limit: request.limit ?? 10,
        filter: request.filter,
        withPayload: request.with_payload,
        withVector: request.with_vector ?? false,
      });
    }
    if (rest === '/points/delete' && method === 'POST') {
      const request = parseBody(deleteSchema, body);
      const operation = collection.nextOperation();
      if ('points' in request) collection.deleteByIds(request.points);
      else collection.deleteByFilter(request.filter);
      return updateResult(operation, wait);
    }
    throw new QdrantDoubleError(404, '');
  };

  const takeFault = (method: string, path: string): ActiveFault | undefined => {
    const fault = faults.find(
      (candidate) =>
        candidate.remaining > 0 &&
        (candidate.method === undefined || candidate.method === method) &&
        (candidate.path === undefined ||
          (typeof candidate.path === 'string' ? candidate.path === path : candidate.path.test(path))),
    );
    if (fault) fault.remaining -= 1;
    return fault;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    const url = new URL(req.url ?? '/', 'http://double');
    const method = req.method ?? 'GET';
    const record: QdrantDoubleRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      status: undefined,
    };
    requests.push(record);
    const answerError = (status: number, message: string, headers: Record<string, string> = {}) => {
      record.status = status;
      send(res, status, { status: { error: message }, time: elapsed() }, headers);
    };
    try {
      const text = await readBody(req, maxBody);
      if (text.length > 0) {
        try {
          record.body = JSON.parse(text);
        } catch (error) {
          throw new QdrantDoubleError(400, `Format error in JSON body: ${(error as Error).message}`);
        }
      }
      if (options.apiKey !== undefined && req.headers['api-key'] !== options.apiKey) {
        // Qdrant answers an unauthenticated request with a plain-text 401.
        record.status = 401;
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end('Must provide an API key or an Authorization bearer token');
        return;
      }
      const fault = takeFault(method, url.pathname);
      if (fault) {
        const { action } = fault;
        if (action.kind === 'hang') return;
        if (action.kind === 'reset') {
          req.socket.destroy();
          return;
        }
        if (action.kind === 'respond') {
          record.status = action.status;
          send(res, action.status, action.body, action.headers);
          return;
        }
        answerError(action.status, action.message ?? `Injected fault: ${action.status}`, action.headers);
        return;
      }
      record.status = 200;
      if (method === 'GET' && url.pathname === '/') {
        // The root answers with the bare version info, outside the usual envelope.
        send(res, 200, { title: 'qdrant - vector search engine', version });
        return;
      }
      const result = route(method, url.pathname, url.searchParams, record.body);
      send(res, 200, { result, status: 'ok', time: elapsed() });
    } catch (error) {
      if (error instanceof QdrantDoubleError) {
        if (error.status === 404 && error.message === '') {
          // Unknown routes get actix's bare 404.
          record.status = 404;
          res.writeHead(404, { 'content-length': 0 });
          res.end();
          return;
        }
        answerError(error.status, error.message);
        return;
      }
      answerError(500, `Service internal error: ${(error as Error).message}`);
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    stats: {
      requests,
      reset: () => {
        requests.length = 0;
      },
    },
    injectFault: (fault) => {
      faults.push({ ...fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
    },
    clearFaults: () => {
      faults = [];
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function describeCollection(collection: DoubleCollection): unknown {
  const vectors = collection.unnamed
    ? collection.dense.get('')
    : Object.fromEntries([...collection.dense].map(([name, config]) => [name, { ...config }]));
  return {
    status: 'green',
    optimizer_status: 'ok',
    indexed_vectors_count: 0,
    points_count: collection.pointCount,
    segments_count: 1,
    config: {
      params: {
        vectors,
        sparse_vectors: Object.fromEntries(
          [...collection.sparse].map(([name, config]) => [name, { modifier: config.modifier }]),
        ),
        shard_number: 1,
        replication_factor: 1,
        write_consistency_factor: 1,
        on_disk_payload: true,
      },
      hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000 },
      optimizer_config: {},
      wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
      quantization_config: null,
    },
    payload_schema: Object.fromEntries(
      [...collection.payloadIndexes].map(([field, index]) => [
        field,
        {
          data_type: index.dataType,
          ...(index.params === undefined ? {} : { params: index.params }),
          points: collection.indexedPoints(field),
        },
      ]),
    ),
  };
}
