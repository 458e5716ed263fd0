/** `quorum spend`: the ledger's spend per day, model, key or team, read straight from the database. */
import { amountNanos, usdOfNanos } from '../limits/nanos.ts';
import { type SpendGroupBy, type SpendRow, StoreError } from '../store/index.ts';
import { parseOr, usage } from './args.ts';
import { DEFAULT_DATABASE_URL, openCliStore } from './store.ts';
import { formatTable } from './table.ts';

export const SPEND_HELP = `quorum spend — what has been spent, from the gateway's ledger

Usage: quorum spend [--team <team>] [--key <key-id>] [--model <model>] [--from <date>] [--to <date>]
                    [--group-by day|model|key|team] [--json]

Options:
  --team <team>       only this team's spend
  --key <key-id>      only this key's: its id (key_…, as \`quorum keys list\` shows), or static:<name>
                      for a static key of the config file
  --model <model>     only this model's (the catalog id that answered)
  --from <date>       from this date or ISO time (inclusive; a date is 00:00 UTC)
  --to <date>         up to this date (inclusive of that whole UTC day) or ISO time (exclusive)
  --group-by <what>   one row per day (default), model, key or team
  --json              the rows as GET /admin/spend returns them, plus the totals
  --database <url>    the gateway's database (default: $QUORUM_DATABASE_URL, else ${DEFAULT_DATABASE_URL});
                      the store opened is named on stderr
  -h, --help          show this help

Run it with the environment \`quorum serve\` runs with (the same QUORUM_DATABASE_URL), so it reads the
ledger the gateway writes.

Requests count each client request once (a consensus fan-out is one request of several calls); tokens
and cost sum every upstream call. Cost is in USD, exact to the nano-dollar in --json.

Examples:
  quorum spend --team research --from 2026-11-01 --to 2026-11-30
  quorum spend --group-by model --from 2026-11-22
  quorum spend --team research --group-by key --json
  QUORUM_DATABASE_URL=postgres://quorum@db/quorum quorum spend --group-by team

Exit codes: 0 done, 1 failed (e.g. no database there, or it cannot be opened), 2 usage error.
`;

const GROUP_BY: readonly SpendGroupBy[] = ['day', 'model', 'key', 'team'];

const OPTIONS = {
  team: { type: 'string' },
  key: { type: 'string' },
  model: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  'group-by': { type: 'string' },
  json: { type: 'boolean' },
  database: { type: 'string' },
} as const;

type Total = Omit<SpendRow, 'group'>;

const count = (n: number) => n.toLocaleString('en-US');

function table(groupBy: SpendGroupBy, rows: SpendRow[], total: Total): string {
  const cells = (label: string, r: Total) => [
    label,
    count(r.requests),
    count(r.calls),
    count(r.input_tokens),
    count(r.output_tokens),
    r.cost_usd.toFixed(6),
  ];
  const body = rows.map((r) => cells(r.group ?? (groupBy === 'key' ? '(no key)' : '(none)'), r));
  return formatTable(
    [groupBy, 'requests', 'calls', 'input tokens', 'output tokens', 'cost USD'],
    [...body, cells('total', total)],
    new Set([1, 2, 3, 4, 5]),
  );
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
  const groupBy = (values['group-by'] ?? 'day') as SpendGroupBy;
  if (!GROUP_BY.includes(groupBy)) {
    return usage('spend', `--group-by: expected one of ${GROUP_BY.join(', ')}, got "${groupBy}"`);
  }
  const filters = {
    ...(values.team !== undefined ? { team: values.team } : {}),
    ...(values.key !== undefined ? { key: values.key } : {}),
    ...(values.model !== undefined ? { model: values.model } : {}),
    ...(values.from !== undefined ? { from: values.from } : {}),
    ...(values.to !== undefined ? { to: values.to } : {}),
  };

  const store = await openCliStore('spend', values.database);
  if (typeof store === 'number') return store;
  try {
    const rows = await store.ledger.spendReport({ ...filters, group_by: groupBy });
    // A request belongs to exactly one team, so per-team rows add up without counting any twice.
    const total: Total = { requests: 0, calls: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 };
    let nanos = 0; // summed as integers, so the total is exact like each row
    for (const r of await store.ledger.spendReport({ ...filters, group_by: 'team' })) {
      total.requests += r.requests;
      total.calls += r.calls;
      total.input_tokens += r.input_tokens;
      total.output_tokens += r.output_tokens;
      nanos += amountNanos(r.cost_usd);
    }
    total.cost_usd = usdOfNanos(nanos);
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ object: 'list', group_by: groupBy, data: rows, total }, null, 2)}\n`,
      );
    } else if (!rows.length) process.stdout.write('No spend recorded for these filters.\n');
    else process.stdout.write(table(groupBy, rows, total));
    return 0;
  } catch (e) {
    if (e instanceof StoreError) return usage('spend', e.message.replace(/^(from|to):/, '--$1:'));
    throw e;
  } finally {
    await store.close();
  }
}
