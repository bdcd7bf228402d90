// `--import` this file to run a sandbox child from the TypeScript sources (see source-hooks.mjs).
import { register } from 'node:module';

register('./source-hooks.mjs', import.meta.url);
