import { createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago, found by letting the OS pick one.
 * Another process may still take it before the caller binds, so callers that can should
 * listen on port 0 themselves; this is for programs (like `redis-server`) that need a number.
 *
 * @param host interface to probe; default `127.0.0.1`
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected server address ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}
