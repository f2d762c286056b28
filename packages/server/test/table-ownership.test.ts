/**
 * Every table belongs to one module, and other modules read it only through that module's door. This
 * test derives from the source which module's files touch which table and fails when a module touches
 * a table it does not own (there is no list of exceptions: the last two, stats' adherence query over
 * decisions and approvals, went when a decision row started keeping its approval's outcome). Another
 * keeps the ownership table in docs/ARCHITECTURE.md equal to `OWNERS`.
 *
 * A touch is found in the syntax tree (comments never count): a Kysely builder call whose first argument
 * names a table (`selectFrom('runs')`, `orgScope(db, o).selectFrom('runs as r')`, `innerJoin('agents as a', …)`,
 * `insertInto`, `updateTable`, `deleteFrom`, `with`…), `sql.table('x')`, a write description's
 * `table: 'runs'`, and table names after from/join/into/update/table in a string or template that
 * reads as SQL (`select … from runs`, `insert into decisions …`). Only known table names count.
 *
 * Left out on purpose: `db/` (the schema layer: migrations, partitions, the write generators, the scoped
 * query entry) and org export and deletion's loops over every table with an `org_id` column, found by
 * introspection (`modules/governance/org-tables.ts`), which must cover tables no service knows about yet.
 * Neither names a table in a way this test reads, so neither needs an entry.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
const DOC = resolve(SRC, '../../../docs/ARCHITECTURE.md');

/** Owner → its tables. A new table gets an owner here and in docs/ARCHITECTURE.md. */
const OWNERS: Record<string, readonly string[]> = {
  // Better Auth writes its auth_* tables; inside the hub, the orgs module is the one reader of users
  // (names, addresses: people are members), and platform/auth of the rest.
  'platform/orgs': ['orgs', 'members', 'teams', 'team_members', 'invitations', 'user_prefs', 'auth_user'],
  'platform/auth': ['auth_session', 'auth_account', 'auth_verification', 'auth_two_factor'],
  'platform/api-keys': ['api_keys'],
  'platform/audit': ['audit_log', 'audit_purges'],
  'platform/notifications': ['notifications', 'notification_prefs', 'email_outbox'],
  'platform/webhooks': ['webhooks', 'webhook_deliveries'],
  'platform/jobs': ['jobs', 'schedules', 'enrichment_leases', 'enrichment_members'],
  'platform/plans.ts': ['org_feature_flags'],
  db: ['hub_meta'],
  'modules/agents': ['agents'],
  'modules/ingestion': ['runs', 'events', 'rollups_hourly', 'runs_fts'],
  'modules/policies': ['policies', 'policy_versions', 'decisions'],
  'modules/approvals': ['approvals'],
  'modules/controls': ['agent_pauses', 'kill_switches', 'category_pauses'],
  'modules/costs': ['budgets', 'budget_periods', 'budget_crossings', 'price_overrides'],
  'modules/alerts': ['alert_rules', 'alert_events', 'alert_cursors'],
  'modules/stats': ['plan_usage_notices'],
  'modules/privacy': ['privacy_settings', 'agent_privacy', 'privacy_redactions'],
  'modules/reports': ['reports', 'report_runs'],
  'modules/governance': ['policy_pack_applications', 'policy_pack_items', 'org_exports'],
  'modules/mcp-endpoints': ['mcp_endpoints'],
};

const OWNER_OF = new Map(Object.entries(OWNERS).flatMap(([owner, tables]) => tables.map((t) => [t, owner] as const)));
const TABLES = new Set(OWNER_OF.keys());

/** The module a source file belongs to: `modules/<m>`, `platform/<dir>`, or the file itself (`platform/plans.ts`, `init.ts`). */
function moduleOf(file: string): string {
  const parts = file.split('/');
  if ((parts[0] === 'modules' || parts[0] === 'platform') && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return file;
}

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    const rel = relative(SRC, full).split(sep).join('/');
    if (e.isDirectory()) return rel === 'db' || rel === 'testing' ? [] : sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [rel] : [];
  });
}

/** Builder methods whose first argument names a table (or `'table as alias'`). */
const TABLE_METHODS = new Set([
  'selectFrom',
  'insertInto',
  'replaceInto',
  'updateTable',
  'deleteFrom',
  'mergeInto',
  'innerJoin',
  'leftJoin',
  'rightJoin',
  'fullJoin',
  'crossJoin',
  'innerJoinLateral',
  'leftJoinLateral',
  'table',
]);
const SQL_WORDS = /\b(?:select|insert|update|delete)\b/i;
const SQL_TABLE = /\b(?:from|join|into|update|table)\s+([a-z_][a-z0-9_]*)/gi;

/** The tables a file's code names, by the rules in the header. */
export function tablesTouched(code: string, fileName = 'x.ts'): Set<string> {
  const found = new Set<string>();
  const name = (text: string) => {
    const table = text.split(/\s+as\s+/i)[0].trim();
    if (TABLES.has(table)) found.add(table);
  };
  const rawSql = (text: string) => {
    if (!SQL_WORDS.test(text)) return;
    for (const m of text.matchAll(SQL_TABLE)) name(m[1]);
  };
  const literal = (n: ts.Node) => (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) ? n.text : null);
  const source = ts.createSourceFile(fileName, code, ts.ScriptTarget.Latest, true);
  const visit = (n: ts.Node) => {
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression)) {
      if (TABLE_METHODS.has(n.expression.name.text) && n.arguments.length > 0) {
        const arg = n.arguments[0];
        const text = literal(arg);
        if (text !== null) name(text);
        else if (ts.isArrayLiteralExpression(arg))
          for (const el of arg.elements) {
            const t = literal(el);
            if (t !== null) name(t);
          }
      }
    }
    if (ts.isPropertyAssignment(n) && ts.isIdentifier(n.name) && n.name.text === 'table') {
      const text = literal(n.initializer);
      if (text !== null) name(text);
    }
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) rawSql(n.text);
    if (ts.isTemplateExpression(n)) rawSql([n.head.text, ...n.templateSpans.map((s) => s.literal.text)].join(' ? '));
    ts.forEachChild(n, visit);
  };
  visit(source);
  return found;
}

/** `module -> table` for every touch of a table the module does not own, with the files that do it. */
function crossings(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of sourceFiles()) {
    const mod = moduleOf(file);
    for (const table of tablesTouched(readFileSync(join(SRC, file), 'utf8'), file)) {
      if (OWNER_OF.get(table) === mod) continue;
      const key = `${mod} -> ${table}`;
      out.set(key, [...(out.get(key) ?? []), file]);
    }
  }
  return out;
}

it('reads tables out of builder calls, write descriptions and raw SQL, not comments', () => {
  const code = `
    // selectFrom('budgets') in a comment does not count
    orgScope(db, o).selectFrom('runs as r').innerJoin('agents as a', (j) => j);
    db.insertInto('decisions'); x.updateTable("approvals"); x.deleteFrom(\`teams\`);
    const d = { table: 'rollups_hourly' };
    sqlite.prepare('select timezone from orgs where id = ?');
    sql\`update webhooks set x = \${1} where id in (select webhook_id from webhook_deliveries)\`;
    throw new Error('cannot read from members'); // not SQL: no select/insert/update/delete
  `;
  expect([...tablesTouched(code)].sort()).toEqual(
    [
      'agents',
      'approvals',
      'decisions',
      'orgs',
      'rollups_hourly',
      'runs',
      'teams',
      'webhook_deliveries',
      'webhooks',
    ].sort(),
  );
});

it('every table in the schema and the migrations has an owner', () => {
  const schema = readFileSync(join(SRC, 'db/schema.ts'), 'utf8');
  const body = schema.slice(schema.indexOf('export interface Database {'));
  const declared = [...body.matchAll(/^\s{2}([a-z_]+):/gm)].map((m) => m[1]);
  const migrations = join(SRC, 'db/migrations');
  const created = readdirSync(migrations).flatMap((f) =>
    [...readFileSync(join(migrations, f), 'utf8').matchAll(/createTable\('([a-z_]+)'/g)].map((m) => m[1]),
  );
  expect([...new Set([...declared, ...created])].filter((t) => !TABLES.has(t))).toEqual([]);
});

it('no module touches a table it does not own', () => {
  const found = [...crossings()].map(([key, files]) => `${key}   (${files.join(', ')})`);
  expect(found, "read it through the owner's door (add a function to its index.ts or service)").toEqual([]);
});

/** The ownership table as docs/ARCHITECTURE.md should print it: owner, tables. */
const expectedDocRows = () => Object.entries(OWNERS).map(([owner, tables]) => `\`${owner}\` | ${tables.join(', ')}`);

it('docs/ARCHITECTURE.md lists the same owners and tables', () => {
  const doc = readFileSync(DOC, 'utf8');
  const start = doc.indexOf('| Owner');
  const rows = doc
    .slice(start)
    .split('\n')
    .slice(2)
    .filter((l, i, all) => l.startsWith('|') && all.slice(0, i).every((p) => p.startsWith('|')))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim())
        .join(' | '),
    );
  expect(rows).toEqual(expectedDocRows());
});
