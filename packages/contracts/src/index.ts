export * from './agents.ts';
export * from './common.ts';
export * from './orgs.ts';
export * from './platform.ts';
export * from './rbac.ts';
export * from './ingestion.ts';
