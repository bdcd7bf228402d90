import type { UserProjectConfigExport, UserWorkspaceConfig } from 'vitest/config';

export declare function quireProject(name: string, overrides?: UserProjectConfigExport): UserWorkspaceConfig;
