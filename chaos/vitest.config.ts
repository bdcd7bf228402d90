import { quireProject } from '@quire/vitest-config';

// The scenarios start worker processes and share one machine's cores: one file at a time.
export default quireProject('chaos', {
  test: { fileParallelism: false, testTimeout: 180_000, hookTimeout: 120_000 },
});
