/**
 * The operator console at `/console/`: a page, one script and one stylesheet, built from
 * `console/` into `dist/console/` and read once at start-up. It talks to the public `/v1` routes
 * with the API key the operator types in, so it needs no route, session or cookie of its own.
 *
 * Every response carries a strict Content-Security-Policy: scripts, styles and requests from this
 * origin only, no inline script, no frames, no plugins, so that a document's text (shown only as
 * text) can never become code even if a bug let markup through.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError, errorBody } from './errors.js';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const FILES = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.js.map': 'application/json; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
} as const;
type FileName = keyof typeof FILES;

/** Where the build puts the console: `dist/console`, next to `src/` and `dist/` alike. */
const BUILT = new URL('../dist/console/', import.meta.url);

export interface ConsoleOptions {
  /** Directory of the built console. Default: this package's `dist/console/`. */
  dir?: URL;
}

export async function consoleRoutes(app: FastifyInstance, options: ConsoleOptions = {}): Promise<void> {
  const dir = options.dir ?? BUILT;
  const files = new Map<FileName, Buffer>();
  for (const name of Object.keys(FILES) as FileName[]) {
    const content = await readFile(new URL(name, dir)).catch(() => null);
    if (content !== null) files.set(name, content);
  }
  const missing = !files.has('index.html') || !files.has('app.js') || !files.has('app.css');
  if (missing)
    app.log.warn({ dir: dir.pathname }, 'the console is not built (pnpm build): /console answers 503');

  const secure = (reply: FastifyReply) =>
    reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('cache-control', 'no-cache');

  const serve = (name: FileName, reply: FastifyReply, requestId: string) => {
    const content = files.get(name);
    secure(reply);
    if (missing || content === undefined) {
      return reply
        .code(503)
        .send(
          errorBody(new ApiError('unavailable', 'the console is not built: run `pnpm build`'), requestId),
        );
    }
    return reply.type(FILES[name]).send(content);
  };

  const hide = { schema: { hide: true } };
  // Relative links in the page need the trailing slash.
  app.get('/console', hide, async (_request, reply) => secure(reply).redirect('/console/', 308));
  app.get('/console/', hide, async (request, reply) => serve('index.html', reply, request.id));
  app.get<{ Params: { file: string } }>('/console/:file', hide, async (request, reply) => {
    const name = request.params.file;
    if (!Object.hasOwn(FILES, name) || name === 'index.html') {
      return secure(reply)
        .code(404)
        .send(errorBody(new ApiError('not_found', `no console file ${JSON.stringify(name)}`), request.id));
    }
    return serve(name as FileName, reply, request.id);
  });
}
