import { quireProject } from '@quire/vitest-config';

export default quireProject('contracts');
