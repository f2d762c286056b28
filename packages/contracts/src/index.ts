export * from './agents.ts';
export * from './common.ts';
export * from './controls.ts';
export * from './ingestion.ts';
export * from './orgs.ts';
export * from './platform.ts';
export * from './prices.ts';
export * from './rbac.ts';
