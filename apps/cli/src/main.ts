#!/usr/bin/env node
/**
 * The `quire` command. On Node ≥ 22.1 the compiled code of the modules loaded from here on is kept
 * on disk (Node's compile cache: `NODE_COMPILE_CACHE`, else a directory under the system's
 * temporary one), so that a command does not compile the same code again at every start; Node 20
 * has no such cache and starts as before.
 */
import nodeModule from 'node:module';

// Where the cache cannot be written, Node says so in the call's result and runs without it.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./run.js');
