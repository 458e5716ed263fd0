/**
 * `quorum keys create|list|revoke`: API keys in the gateway's database, without going through the HTTP
 * API (so no master key is needed, only access to the database). The static keys of the config file
 * are listed too (never their values): they are revoked by removing them from that file.
 */
import { userInfo } from 'node:os';
import { AuditLog } from '../audit/index.ts';
import type { GatewayConfig } from '../config/index.ts';
import { keyDetails, staticKeyNamed, staticKeyView } from '../server/routes/admin/keys.ts';
import { mirrorConfigTeam } from '../server/routes/admin/team-view.ts';
import { type KeyInfo, type Store, StoreError } from '../store/index.ts';
import { toEpochMs } from '../store/time.ts';
import { parseOr, usage } from './args.ts';
import { loadCliConfig } from './config.ts';
import { DEFAULT_DATABASE_URL, openCliStore } from './store.ts';
import { formatTable } from './table.ts';

export const KEYS_HELP = `quorum keys — create, list and revoke API keys for teams

Usage:
  quorum keys create --team <team> --name <name> [--expires <when>] [--rpm <n>] [--tpm <n>] [--json]
  quorum keys list [--team <team>] [--json]
  quorum keys revoke <key-id>

Options:
  --team <team>       the team the key spends for: one of the config file's teams, or one made with
                      POST /admin/teams
  --name <name>       a label for people, e.g. the app or person holding the key
  --expires <when>    a date (2026-12-31 = that day's 00:00 UTC), an ISO time, or a duration (30d, 12h);
                      default: never
  --rpm <n>, --tpm <n>  this key's own requests and tokens per minute (the team's limits apply too)
  --json              machine-readable output
  --database <url>    the gateway's database (default: $QUORUM_DATABASE_URL, else ${DEFAULT_DATABASE_URL});
                      the store opened is named on stderr
  --config <file>     the configuration file, for its teams and static keys (default: $QUORUM_CONFIG,
                      else config/quorum.yaml if it exists)
  -h, --help          show this help

Run it with the environment \`quorum serve\` runs with (the same QUORUM_DATABASE_URL and QUORUM_CONFIG),
so it reads the same store and configuration.

The key is printed once, when it is created: the database keeps only a hash of it. Lists show a prefix
(e.g. qk-3f9aB7x) to recognise keys by. A revoked key is refused from the gateway's next request on.
Static keys (the config file's keys:) are listed with status "static" and no id: the ledger and
\`quorum spend --group-by key\` name them static:<name>; to revoke one, remove it from the file.

Examples:
  quorum keys create --team research --name ci --expires 90d --rpm 60
  quorum keys create --team research --name ci --json | jq -r .key
  quorum keys list --team research
  QUORUM_DATABASE_URL=postgres://quorum@db/quorum quorum keys list
  quorum keys revoke key_8hX2nQ4mVb1aTz0p

Exit codes: 0 done, 1 failed (e.g. unknown team or key id, no database), 2 usage or configuration error.
`;

const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(text);

const OPTIONS = {
  team: { type: 'string' },
  name: { type: 'string' },
  expires: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  json: { type: 'boolean' },
  database: { type: 'string' },
  config: { type: 'string' },
} as const;
type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

const ALLOWED: Record<string, (keyof typeof OPTIONS)[]> = {
  create: ['team', 'name', 'expires', 'rpm', 'tpm', 'json', 'database', 'config'],
  list: ['team', 'json', 'database', 'config'],
  revoke: ['json', 'database', 'config'],
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

const noTeam = (team: string, config: GatewayConfig) =>
  `quorum keys: team "${team}" not found in the store${config.source ? ` nor in ${config.source}` : ''} — ` +
  "add it to the config file's teams: (as `quorum serve` reads it: --config or QUORUM_CONFIG), or create " +
  'it with POST /admin/teams.\n';

/** Who ran the command, for the audit log: `cli:<os user>`. */
function actor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** Records a change made from the command line in the audit log, as the admin API records its own. */
function audit(
  store: Store,
  config: GatewayConfig,
  action: string,
  id: string,
  details: Record<string, unknown>,
) {
  const secrets = config.keys.map((k) => k.key);
  return new AuditLog(store.audit, { secrets }).record({
    actor: actor(),
    action,
    target: `key:${id}`,
    details,
  });
}

/** The config's team of that id, copied into the store if this store has not seen it yet. */
async function configTeamInStore(store: Store, config: GatewayConfig, team: string): Promise<void> {
  const cfg = config.teams.find((t) => t.id === team);
  if (cfg && !(await store.teams.get(team))) await mirrorConfigTeam(store, cfg);
}

async function create(store: Store, v: Values, config: GatewayConfig): Promise<number> {
  try {
    await configTeamInStore(store, config, v.team!);
    const expires = v.expires === undefined ? null : (expiry(v.expires) as number);
    const key = await store.keys.create({
      team: v.team!,
      name: v.name!,
      expires_at: expires,
      limits: { rpm: perMinute('rpm', v.rpm) as number, tpm: perMinute('tpm', v.tpm) as number },
    });
    await audit(store, config, 'key.create', key.id, keyDetails(key));
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
      err(noTeam(v.team!, config));
      return 1;
    }
    if (e instanceof StoreError) return usage('keys create', e.message);
    throw e;
  }
}

async function list(store: Store, v: Values, config: GatewayConfig): Promise<number> {
  const configTeam = v.team !== undefined && config.teams.some((t) => t.id === v.team);
  if (v.team !== undefined && !configTeam && !(await store.teams.get(v.team))) {
    err(noTeam(v.team, config));
    return 1;
  }
  const now = Date.now();
  const stored = (await store.keys.list(v.team)).map((k) => ({
    ...k,
    source: 'store' as const,
    status: statusOf(k, now),
  }));
  const statics = config.keys.filter((k) => v.team === undefined || k.team === v.team).map(staticKeyView);
  if (v.json) {
    out(`${JSON.stringify([...stored, ...statics], null, 2)}\n`);
    return 0;
  }
  if (!stored.length && !statics.length) {
    out(
      `No keys${v.team ? ` for team ${v.team}` : ''}. Create one with \`quorum keys create --team <team> --name <name>\`.\n`,
    );
    return 0;
  }
  const rows = [
    ...stored.map((k) => [
      k.id,
      k.team,
      k.name,
      k.prefix,
      when(k.created_at, ''),
      when(k.expires_at, 'never'),
      when(k.revoked_at, '-'),
      k.status,
    ]),
    ...statics.map((k) => ['-', k.team, k.name ?? '(unnamed)', '-', '-', 'never', '-', 'static']),
  ];
  out(formatTable(['id', 'team', 'name', 'prefix', 'created (UTC)', 'expires', 'revoked', 'status'], rows));
  if (statics.length) {
    out(
      `\nStatic keys are defined in ${config.source ?? 'the configuration'} (keys:); remove one there to ` +
        'revoke it. Spend by key names them static:<name>.\n',
    );
  }
  return 0;
}

async function revoke(store: Store, id: string, v: Values, config: GatewayConfig): Promise<number> {
  const key = await store.keys.get(id);
  if (!key) {
    const configured = staticKeyNamed(config.keys, id);
    if (configured) {
      err(
        `quorum keys revoke: "${configured.name}" (team ${configured.team}) is a static key, defined in the config file ` +
          `${config.source ?? ''} (keys:): remove it there and restart the gateway to revoke it.\n`,
      );
      return 1;
    }
    err(`quorum keys revoke: no key "${id}"; \`quorum keys list\` shows the ids.\n`);
    return 1;
  }
  const already = key.revoked_at !== null;
  if (!already) await store.keys.revoke(id);
  const after = (await store.keys.get(id))!;
  if (!already) await audit(store, config, 'key.revoke', id, keyDetails(after));
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

  const loaded = loadCliConfig(values.config);
  if (!loaded.ok) {
    err(`quorum keys ${sub}: cannot read the configuration (its teams and static keys):\n`);
    for (const p of loaded.problems) err(`  ${p}\n`);
    return 2;
  }
  const config = loaded.config;
  const store = await openCliStore(`keys ${sub}`, values.database);
  if (typeof store === 'number') return store;
  if (config.source) err(`config: ${config.source}\n`);
  try {
    if (sub === 'create') return await create(store, values, config);
    if (sub === 'list') return await list(store, values, config);
    return await revoke(store, rest[0]!, values, config);
  } finally {
    await store.close();
  }
}
