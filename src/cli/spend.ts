/**
 * `quorum spend`: the ledger's spend grouped by any combination of dimensions, with a filter for each,
 * read straight from the database — as a table, CSV or JSON (the CSV and JSON read page after page,
 * so an export of any size is written as it is read).
 */
import {
  type LedgerFigures,
  resolveSpendQuery,
  type SpendQuery,
  type SpendRow,
  type Store,
  StoreError,
  spendCsv,
} from '../store/index.ts';
import { parseOr, usage } from './args.ts';
import { DEFAULT_DATABASE_URL, openCliStore } from './store.ts';
import { formatTable } from './table.ts';

export const SPEND_HELP = `quorum spend — what has been spent, from the gateway's ledger

Usage: quorum spend [--group-by <dimensions>] [--team <team>] [--key <key-id>] [--model <model>]
                    [--user <user>] [--tag <name>[:<value>]] [--surface <surface>] [--run <run-id>]
                    [--step <step>] [--from <date>] [--to <date>] [--format table|csv|json]

Grouping:
  --group-by <dims>   one row per group of these dimensions, comma-separated, in this order (default day):
                        team, key, model, day, hour (UTC), user (the end user a request named),
                        tag (each name:value tag; a request with several splits its cost equally),
                        tag:<name> (that tag's value), surface, run (workflow run), step (workflow step)

Filters (each narrows; combine freely):
  --team <team>       only this team's spend
  --key <key-id>      only this key's: its id (key_…, as \`quorum keys list\` shows), or static:<name>
                      for a static key of the config file
  --model <model>     only this model's (the catalog id that answered)
  --user <user>       only requests that named this end user (\`user\`; \`metadata.user_id\` on /v1/messages)
  --tag <name>        only requests with this tag; <name>:<value> for that value too
  --surface <name>    chat.completions, consensus, reviews, responses, messages, embeddings or workflow
  --run <run-id>      only this workflow run's calls;  --step <step> only this step's
  --from <date>       from this date or ISO time (inclusive; a date is 00:00 UTC)
  --to <date>         up to this date (inclusive of that whole UTC day) or ISO time (exclusive)

Output:
  --format <f>        table (default): the rows and a total row; csv: a header line and the rows, for a
                      spreadsheet; json: {object, group_by, data, total}, as GET /admin/spend's rows
  --json              the same as --format json
  --database <url>    the gateway's database (default: $QUORUM_DATABASE_URL, else ${DEFAULT_DATABASE_URL});
                      the store opened is named on stderr
  -h, --help          show this help

Run it with the environment \`quorum serve\` runs with (the same QUORUM_DATABASE_URL), so it reads the
ledger the gateway writes.

Requests count each client request once (a consensus fan-out is one request of several calls); tokens
and cost sum every upstream call. The total counts every request and every nano-dollar once, whatever
the grouping: by tag, a request tagged {a, b} gives each tag half its cost, and its whole cost to the
total. Cost is in USD, exact to the nano-dollar in csv and json.

Examples:
  quorum spend --team research --from 2026-11-01 --to 2026-11-30
  quorum spend --group-by team,model,day --from 2026-11-01
  quorum spend --group-by user --team research --format csv > research-users.csv
  quorum spend --group-by tag --tag project --json
  quorum spend --run run_8f2c… --group-by step
  QUORUM_DATABASE_URL=postgres://quorum@db/quorum quorum spend --group-by team

Exit codes: 0 done, 1 failed (e.g. no database there, or it cannot be opened), 2 usage error.
`;

const FILTERS = ['team', 'key', 'model', 'user', 'tag', 'surface', 'run', 'step', 'from', 'to'] as const;

const OPTIONS = {
  ...Object.fromEntries(FILTERS.map((f) => [f, { type: 'string' }])),
  'group-by': { type: 'string' },
  format: { type: 'string' },
  json: { type: 'boolean' },
  database: { type: 'string' },
} as const as Record<(typeof FILTERS)[number] | 'group-by' | 'format' | 'database', { type: 'string' }> & {
  json: { type: 'boolean' };
};

const FORMATS = ['table', 'csv', 'json'] as const;
type Format = (typeof FORMATS)[number];

/** Rows per page read from the database: an export holds one page in memory at a time. */
const PAGE = 10_000;

const count = (n: number) => n.toLocaleString('en-US');

/** How a group without a value reads in the table. */
const none = (dimension: string) => (dimension === 'key' ? '(no key)' : '(none)');

function table(groupBy: string[], rows: SpendRow[], total: LedgerFigures): string {
  const dims = groupBy.flatMap((d) => (d === 'key' ? ['key', 'key_name'] : [d]));
  const figures = (r: LedgerFigures) => [
    count(r.requests),
    count(r.calls),
    count(r.input_tokens),
    count(r.output_tokens),
    r.cost_usd.toFixed(6),
  ];
  const body = rows.map((r) => [
    ...dims.map((d) => (r[d] === null ? (d === 'key_name' ? '' : none(d)) : String(r[d]))),
    ...figures(r),
  ]);
  const totalRow = ['total', ...dims.slice(1).map(() => ''), ...figures(total)];
  return formatTable(
    [
      ...dims.map((d) => (d === 'key_name' ? 'name' : d)),
      'requests',
      'calls',
      'input tokens',
      'output tokens',
      'cost USD',
    ],
    [...body, totalRow],
    new Set([0, 1, 2, 3, 4].map((i) => dims.length + i)),
  );
}

const write = (text: string) => process.stdout.write(text);

/** Every page, one after another; `each` gets each page's rows as they come. */
async function readPages(store: Store, query: SpendQuery, each: (rows: SpendRow[], first: boolean) => void) {
  let after: unknown[] | null = null;
  let first = true;
  do {
    const page = await store.spend.page(
      { ...query, limit: PAGE, ...(after ? { after } : {}) },
      { totals: false },
    );
    each(page.rows, first);
    first = false;
    after = page.next;
  } while (after);
}

async function report(store: Store, query: SpendQuery, label: string, format: Format): Promise<void> {
  // The totals first (one query), then the rows page by page.
  const { group_by: groupBy, totals } = await store.spend.page({ ...query, limit: 1 });
  const total = totals!;
  if (format === 'csv') {
    await readPages(store, query, (rows, first) => write(spendCsv(groupBy, rows, first)));
    return;
  }
  if (format === 'json') {
    write(`{\n  "object": "list",\n  "group_by": ${JSON.stringify(label)},\n  "data": [`);
    let n = 0;
    await readPages(store, query, (rows) => {
      for (const r of rows) write(`${n++ ? ',' : ''}\n    ${JSON.stringify(r)}`);
    });
    write(`${n ? '\n  ' : ''}],\n  "total": ${JSON.stringify(total)}\n}\n`);
    return;
  }
  const rows: SpendRow[] = [];
  await readPages(store, query, (page) => rows.push(...page));
  write(rows.length ? table(groupBy, rows, total) : 'No spend recorded for these filters.\n');
}

export async function spendCommand(argv: string[]): Promise<number> {
  const parsed = parseOr('spend', argv, OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(SPEND_HELP);
    return 0;
  }
  if (positionals.length) return usage('spend', `unexpected argument "${positionals[0]}"`);
  const format = (values.json ? 'json' : (values.format ?? 'table')) as Format;
  if (!FORMATS.includes(format)) {
    return usage('spend', `--format: expected one of ${FORMATS.join(', ')}, got "${values.format}"`);
  }
  const label = values['group-by'] ?? 'day';
  const query: SpendQuery = { group_by: label };
  for (const f of FILTERS) if (values[f] !== undefined) query[f] = values[f];
  // Bad dimensions and filters are usage errors before any database is opened.
  try {
    resolveSpendQuery(query);
  } catch (e) {
    if (e instanceof StoreError) return usage('spend', flag(e.message));
    throw e;
  }

  const store = await openCliStore('spend', values.database);
  if (typeof store === 'number') return store;
  try {
    await report(store, query, label, format);
    return 0;
  } catch (e) {
    if (e instanceof StoreError) return usage('spend', flag(e.message));
    throw e;
  } finally {
    await store.close();
  }
}

/** A store message names the query parameter (`group_by: …`): the CLI's is the flag (`--group-by: …`). */
const flag = (message: string) =>
  message.replace(/^([a-z_]+):/, (_, p: string) => `--${p.replace('_', '-')}:`);
