// Compiles src/vector-store/dense-kernel.wat and writes its bytes to src/vector-store/dense-kernel.ts
// (test/dense-vectors.test.ts checks that the committed bytes are the text's).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import initWabt from 'wabt';

const wat = new URL('../src/vector-store/dense-kernel.wat', import.meta.url);
const target = new URL('../src/vector-store/dense-kernel.ts', import.meta.url);

export async function compileDenseKernel() {
  const wabt = await initWabt();
  const module = wabt.parseWat('dense-kernel.wat', readFileSync(wat, 'utf8'), { simd: true });
  try {
    module.validate();
    return Buffer.from(module.toBinary({}).buffer).toString('base64');
  } finally {
    module.destroy();
  }
}

/** @param {string} base64 */
export function kernelSource(base64) {
  return (
    '// Generated from dense-kernel.wat by scripts/dense-kernel.mjs: do not edit.\n' +
    '/** The compiled dense scan kernel (WebAssembly with SIMD), base64. */\n' +
    `export const DENSE_KERNEL_WASM =\n  '${base64}';\n`
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(target, kernelSource(await compileDenseKernel()));
}
