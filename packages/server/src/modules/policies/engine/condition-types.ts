/**
 * The vocabulary shared by the condition compilers (compile.ts, codegen.ts) and their callers: the three
 * truth values, what a rule sees, and what a compiled condition is.
 */

export const FALSE = 0;
export const TRUE = 1;
export const UNKNOWN = 2;
export type Tri = typeof FALSE | typeof TRUE | typeof UNKNOWN;

/** What a rule sees. The hub fills `agent` from its registry and merges its own context (context.ts). */
export interface EvalInput {
  agent: {
    id?: unknown;
    name?: unknown;
    type?: unknown;
    tags?: unknown;
    environment?: unknown;
    team_id?: unknown;
    [k: string]: unknown;
  };
  action: { type?: unknown; [k: string]: unknown };
  context?: Record<string, unknown>;
}

export type CompiledCondition = (input: EvalInput) => Tri;
