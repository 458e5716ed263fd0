/**
 * `quorum keys create|list|revoke`: API keys in the gateway's database, without going through the HTTP
 * API (so no master key is needed, only access to the database). Also the store helpers `quorum spend`
 * shares.
 */
import { existsSync } from 'node:fs';
import { type KeyInfo, openStore, parseDatabaseUrl, type Store, StoreError } from '../store/index.ts';
import { toEpochMs } from '../store/time.ts';
import { parse } from './args.ts';

export const DEFAULT_DATABASE_URL = 'sqlite:./data/quorum.db';

export const KEYS_HELP = `quorum keys — create, list and revoke API keys for teams

Usage:
  quorum keys create --team <team> --name <name> [--expires <when>] [--rpm <n>] [--tpm <n>] [--json]
  quorum keys list [--team <team>] [--json]
  quorum keys revoke <key-id>

Options:
  --team <team>       the team the key spends for (it must exist: a config-file team, once the gateway
                      has started, or one made with POST /admin/teams)
  --name <name>       a label for people, e.g. the app or person holding the key
  --expires <when>    a date (2026-12-31 = that day's 00:00 UTC), an ISO time, or a duration (30d, 12h);
                      default: never
  --rpm <n>, --tpm <n>  this key's own requests and tokens per minute (the team's limits apply too)
  --json              machine-readable output
  --database <url>    the gateway's database (default: $QUORUM_DATABASE_URL, else ${DEFAULT_DATABASE_URL})
  -h, --help          show this help

The key is printed once, when it is created: the database keeps only a hash of it. Lists show a prefix
(e.g. qk-3f9aB7x) to recognise keys by. A revoked key is refused from the gateway's next request on.

Examples:
  quorum keys create --team research --name ci --expires 90d --rpm 60
  quorum keys create --team research --name ci --json | jq -r .key
  quorum keys list --team research
  quorum keys revoke key_8hX2nQ4mVb1aTz0p

Exit codes: 0 done, 1 failed (e.g. unknown team or key id), 2 usage error.
`;

const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(text);

/** Prints a usage error pointing at the command's help; returns exit code 2. */
export function usage(command: string, message: string): number {
  err(`quorum ${command}: ${message}. Run \`quorum ${command} --help\`.\n`);
  return 2;
}

/** `parse()` that reports unknown flags and missing values as a usage error instead of throwing. */
export function parseOr<O extends Parameters<typeof parse>[1]>(
  command: string,
  argv: string[],
  options: O,
): ReturnType<typeof parse<O>> | number {
  try {
    return parse(argv, options);
  } catch (e) {
    if (!(e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw e;
    return usage(command, (e as Error).message.replace(/\.$/, ''));
  }
}

/** Opens the gateway's database, or prints why it cannot and returns the exit code. */
export async function openCliStore(command: string, flag: string | undefined): Promise<Store | number> {
  const url = flag ?? (process.env.QUORUM_DATABASE_URL || DEFAULT_DATABASE_URL);
  let path: string | null = null;
  try {
    const target = parseDatabaseUrl(url);
    if (target.engine === 'sqlite' && target.path !== ':memory:') path = target.path;
  } catch (e) {
    return usage(command, (e as Error).message);
  }
  // Opening would create an empty database: that is never the one the gateway uses.
  if (path !== null && !existsSync(path)) {
    const from = flag
      ? '--database'
      : process.env.QUORUM_DATABASE_URL
        ? 'QUORUM_DATABASE_URL'
        : 'the default';
    err(
      `quorum ${command}: no database at ${path} (${from}). Start the gateway once (\`quorum serve\`) to ` +
        'create it, or point --database / QUORUM_DATABASE_URL at the one it uses.\n',
    );
    return 1;
  }
  try {
    return await openStore(url);
  } catch (e) {
    err(`quorum ${command}: ${(e as Error).message}\n`);
    return 1;
  }
}

/** Plain-text columns; `right` are the indexes of right-aligned (numeric) columns. */
export function formatTable(
  head: string[],
  rows: string[][],
  right: ReadonlySet<number> = new Set(),
): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[head, ...rows].map(line).join('\n')}\n`;
}

const OPTIONS = {
  team: { type: 'string' },
  name: { type: 'string' },
  expires: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  json: { type: 'boolean' },
  database: { type: 'string' },
} as const;
type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

const ALLOWED: Record<string, (keyof typeof OPTIONS)[]> = {
  create: ['team', 'name', 'expires', 'rpm', 'tpm', 'json', 'database'],
  list: ['team', 'json', 'database'],
  revoke: ['json', 'database'],
};

type KeyStatus = 'active' | 'revoked' | 'expired';
const statusOf = (k: KeyInfo, now: number): KeyStatus =>
  k.revoked_at ? 'revoked' : k.expires_at && Date.parse(k.expires_at) <= now ? 'expired' : 'active';
const when = (iso: string | null, none: string) => (iso ? iso.slice(0, 16).replace('T', ' ') : none);

function expiry(value: string): number | string {
  const duration = /^(\d+)([dh])$/.exec(value.trim());
  if (duration) return Date.now() + Number(duration[1]) * (duration[2] === 'd' ? 86_400_000 : 3_600_000);
  try {
    const ms = toEpochMs(value, 'expires');
    return ms <= Date.now() ? `--expires ${value} is in the past` : ms;
  } catch {
    return `--expires: expected a date (2026-12-31), an ISO time or a duration (30d, 12h), got "${value}"`;
  }
}

function perMinute(flag: string, value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  return /^\d+$/.test(value) && Number(value) > 0
    ? Number(value)
    : `--${flag}: expected a positive whole number`;
}

const noTeam = (team: string) =>
  `quorum keys: team "${team}" not found — start the gateway once (it copies the config file's teams ` +
  'into the database), or create it with POST /admin/teams.\n';

async function create(store: Store, v: Values): Promise<number> {
  try {
    const expires = v.expires === undefined ? null : (expiry(v.expires) as number);
    const key = await store.keys.create({
      team: v.team!,
      name: v.name!,
      expires_at: expires,
      limits: { rpm: perMinute('rpm', v.rpm) as number, tpm: perMinute('tpm', v.tpm) as number },
    });
    const info = { ...key, status: 'active' as const };
    if (v.json) out(`${JSON.stringify(info, null, 2)}\n`);
    else {
      out(
        formatTable(
          ['id', key.id],
          [
            ['team', key.team],
            ['name', key.name],
            ['expires', key.expires_at ?? 'never'],
            ...(key.limits
              ? [
                  [
                    'limits',
                    Object.entries(key.limits)
                      .map(([k, n]) => `${k} ${n}`)
                      .join(', '),
                  ],
                ]
              : []),
            ['key', key.key],
          ],
        ),
      );
    }
    err(
      `Save the key now: only its hash is stored, so it will not be shown again. ` +
        `Revoke it with \`quorum keys revoke ${key.id}\`.\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof StoreError && e.code === 'not_found') {
      err(noTeam(v.team!));
      return 1;
    }
    if (e instanceof StoreError) return usage('keys create', e.message);
    throw e;
  }
}

async function list(store: Store, v: Values): Promise<number> {
  if (v.team !== undefined && !(await store.teams.get(v.team))) {
    err(noTeam(v.team));
    return 1;
  }
  const now = Date.now();
  const keys = (await store.keys.list(v.team)).map((k) => ({ ...k, status: statusOf(k, now) }));
  if (v.json) {
    out(`${JSON.stringify(keys, null, 2)}\n`);
    return 0;
  }
  if (!keys.length) {
    out(
      `No keys${v.team ? ` for team ${v.team}` : ''}. Create one with \`quorum keys create --team <team> --name <name>\`.\n`,
    );
    return 0;
  }
  const rows = keys.map((k) => [
    k.id,
    k.team,
    k.name,
    k.prefix,
    when(k.created_at, ''),
    when(k.expires_at, 'never'),
    when(k.revoked_at, '-'),
    k.status,
  ]);
  out(formatTable(['id', 'team', 'name', 'prefix', 'created (UTC)', 'expires', 'revoked', 'status'], rows));
  return 0;
}

async function revoke(store: Store, id: string, v: Values): Promise<number> {
  const key = await store.keys.get(id);
  if (!key) {
    err(`quorum keys revoke: no key "${id}"; \`quorum keys list\` shows the ids.\n`);
    return 1;
  }
  const already = key.revoked_at !== null;
  if (!already) await store.keys.revoke(id);
  const after = (await store.keys.get(id))!;
  if (v.json) out(`${JSON.stringify({ ...after, status: 'revoked' }, null, 2)}\n`);
  else if (already) out(`Key ${id} (${key.team}/${key.name}) was already revoked at ${key.revoked_at}.\n`);
  else out(`Revoked key ${id} (${key.team}/${key.name}): the gateway refuses it from the next request on.\n`);
  return 0;
}

/** Checks what a subcommand needs before touching the database; a message means a usage error. */
function check(sub: string, v: Values, positionals: string[]): string | null {
  const extra = Object.keys(v).filter((k) => k !== 'help' && !ALLOWED[sub]!.includes(k as keyof Values));
  if (extra.length) return `--${extra[0]} does not apply to \`keys ${sub}\``;
  if (sub === 'revoke')
    return positionals.length === 1 ? null : 'expected one key id: quorum keys revoke <key-id>';
  if (positionals.length) return `unexpected argument "${positionals[0]}"`;
  if (sub !== 'create') return null;
  if (!v.team) return '--team <team> is required';
  if (!v.name) return '--name <name> is required';
  for (const problem of [
    v.expires === undefined ? undefined : expiry(v.expires),
    perMinute('rpm', v.rpm),
    perMinute('tpm', v.tpm),
  ]) {
    if (typeof problem === 'string') return problem;
  }
  return null;
}

export async function keysCommand(argv: string[]): Promise<number> {
  const parsed = parseOr('keys', argv, OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as Values & { help?: boolean };
  const [sub, ...rest] = parsed.positionals;
  if (values.help || sub === 'help') {
    out(KEYS_HELP);
    return 0;
  }
  if (!sub) return usage('keys', 'expected a subcommand: create, list or revoke');
  if (!ALLOWED[sub]) return usage('keys', `unknown subcommand "${sub}" (create, list or revoke)`);
  const problem = check(sub, values, rest);
  if (problem) return usage(`keys ${sub}`, problem);

  const store = await openCliStore(`keys ${sub}`, values.database);
  if (typeof store === 'number') return store;
  try {
    if (sub === 'create') return await create(store, values);
    if (sub === 'list') return await list(store, values);
    return await revoke(store, rest[0]!, values);
  } finally {
    await store.close();
  }
}
