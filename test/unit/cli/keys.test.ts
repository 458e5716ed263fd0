/**
 * `quorum keys create|list|revoke`, run in-process against a temporary SQLite database (and a Postgres
 * schema of its own when QUORUM_TEST_POSTGRES_URL is set); the default store path is checked by running
 * the real CLI in an empty directory.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { keysCommand } from '../../../src/cli/keys.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { cleanEnv, postgresSchema, quorum } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'quorum-keys-cli-'));
const DB = `sqlite:${join(dir, 'q.db')}`;
let store: Store;

/** Runs the command with stdout and stderr captured. */
async function keys(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await keysCommand(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

beforeAll(async () => {
  store = await openStore(DB);
  await store.teams.create({ id: 'research' });
  await store.teams.create({ id: 'ops' });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('quorum keys --help', () => {
  it.each([['--help'], ['create', '--help'], ['help']])(
    'keys %s teaches every subcommand with examples',
    async (...argv) => {
      const r = await keys(...argv);
      expect(r.code).toBe(0);
      for (const text of [
        'keys create --team',
        'keys list',
        'keys revoke',
        '--expires',
        'Examples:',
        'Exit codes',
      ]) {
        expect(r.stdout).toContain(text);
      }
    },
  );
});

describe('quorum keys create', () => {
  it('prints the key once with its id, and warns that it will not be shown again', async () => {
    const r = await keys('create', '--team', 'research', '--name', 'ci', '--database', DB);
    expect(r.code).toBe(0);
    const key = /^key\s+(qk-\S+)$/m.exec(r.stdout)?.[1];
    const id = /^id\s+(key_\S+)$/m.exec(r.stdout)?.[1];
    expect(key).toMatch(/^qk-[A-Za-z0-9_-]{43}$/);
    expect(r.stdout).toMatch(/^expires\s+never$/m);
    expect(r.stderr).toMatch(/will not be shown again/);
    expect(r.stderr).toContain(`quorum keys revoke ${id}`);
    // The gateway knows it by its hash alone.
    expect(await store.keys.findByKey(key!)).toMatchObject({ id, team: 'research', name: 'ci' });
  });

  it('prints JSON with --json, with the expiry and limits asked for', async () => {
    const r = await keys(
      'create',
      '--team=ops',
      '--name=app',
      '--expires=2099-12-31',
      '--rpm=60',
      '--tpm=10000',
      '--json',
      `--database=${DB}`,
    );
    expect(r.code).toBe(0);
    const created = JSON.parse(r.stdout);
    expect(created).toMatchObject({
      team: 'ops',
      name: 'app',
      status: 'active',
      expires_at: '2099-12-31T00:00:00.000Z',
      limits: { rpm: 60, tpm: 10000 },
    });
    expect(created.prefix).toBe(created.key.slice(0, 10));
  });

  it('accepts a duration for --expires', async () => {
    const r = await keys(
      'create',
      '--team',
      'ops',
      '--name',
      'temp',
      '--expires',
      '30d',
      '--json',
      '--database',
      DB,
    );
    const at = Date.parse(JSON.parse(r.stdout).expires_at);
    expect(Math.abs(at - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000);
  });

  it('exits 1 for a team that is not in the database, saying how to get it there', async () => {
    const r = await keys('create', '--team', 'nope', '--name', 'x', '--database', DB);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('team "nope" not found');
    expect(r.stderr).toMatch(/config file's teams:.*POST \/admin\/teams/s);
    expect(r.stdout).toBe('');
  });

  it.each([
    [['--name', 'x'], /--team <team> is required/],
    [['--team', 'ops'], /--name <name> is required/],
    [['--team', 'ops', '--name', 'x', '--rpm', 'lots'], /--rpm: expected a positive whole number/],
    [['--team', 'ops', '--name', 'x', '--tpm', '0'], /--tpm: expected a positive whole number/],
    [['--team', 'ops', '--name', 'x', '--expires', '2001-01-01'], /in the past/],
    [['--team', 'ops', '--name', 'x', '--expires', 'someday'], /--expires: expected a date/],
    [['--team', 'ops', '--name', 'x', '--colour', 'red'], /--colour/],
    [['--team', 'ops', '--name', 'x', 'extra'], /unexpected argument "extra"/],
  ])('exits 2 for %j, pointing at --help', async (argv, message) => {
    const r = await keys('create', ...argv, '--database', DB);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('--help');
  });
});

describe('quorum keys list', () => {
  it('prints a table of every key without any secret', async () => {
    const created = JSON.parse(
      (await keys('create', '--team', 'ops', '--name', 'listed', '--json', '--database', DB)).stdout,
    );
    const r = await keys('list', '--database', DB);
    expect(r.code).toBe(0);
    const [head, ...rows] = r.stdout.trimEnd().split('\n');
    expect(head!.split(/\s{2,}/)).toEqual([
      'id',
      'team',
      'name',
      'prefix',
      'created (UTC)',
      'expires',
      'revoked',
      'status',
    ]);
    const row = rows.find((l) => l.startsWith(created.id))!;
    expect(row).toMatch(
      new RegExp(
        `ops\\s+listed\\s+${created.prefix}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+never\\s+-\\s+active$`,
      ),
    );
    expect(r.stdout).not.toContain(created.key.slice(10));
    expect(rows.some((l) => /\sresearch\s/.test(l))).toBe(true);
  });

  it('filters by --team and prints JSON with --json', async () => {
    const r = await keys('list', '--team', 'research', '--json', '--database', DB);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((k: any) => k.team === 'research' && !('key' in k) && k.status === 'active')).toBe(
      true,
    );
  });

  it('says so when a team has no keys, and exits 1 for an unknown team', async () => {
    await store.teams.create({ id: 'empty' });
    const none = await keys('list', '--team', 'empty', '--database', DB);
    expect(none).toMatchObject({ code: 0, stdout: expect.stringMatching(/^No keys for team empty\./) });
    const unknown = await keys('list', '--team', 'nope', '--database', DB);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('team "nope" not found');
  });

  it('shows expired keys with their expiry', async () => {
    const old = await store.keys.create({
      team: 'empty',
      name: 'old',
      expires_at: Date.parse('2020-05-01T12:30:00Z'),
    });
    const r = await keys('list', '--team', 'empty', '--database', DB);
    expect(r.stdout).toMatch(new RegExp(`${old.id}.*2020-05-01 12:30\\s+-\\s+expired$`, 'm'));
  });

  it('refuses flags that belong to another subcommand', async () => {
    const r = await keys('list', '--name', 'x', '--database', DB);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--name does not apply to `keys list`/);
  });
});

describe('quorum keys revoke', () => {
  it('revokes a key so the gateway refuses it from the next request, and says so', async () => {
    const created = JSON.parse(
      (await keys('create', '--team', 'ops', '--name', 'leaked', '--json', '--database', DB)).stdout,
    );
    const r = await keys('revoke', created.id, '--database', DB);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Revoked key ${created.id} (ops/leaked)`);
    expect(await store.keys.findByKey(created.key)).toBeNull();

    const listed = await keys('list', '--team', 'ops', '--database', DB);
    expect(listed.stdout).toMatch(new RegExp(`${created.id}.*\\d\\d:\\d\\d\\s+revoked$`, 'm'));

    const again = await keys('revoke', created.id, '--database', DB);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/was already revoked at/);
  });

  it('records create and revoke in the audit log as the CLI user, never with the key', async () => {
    const created = JSON.parse(
      (await keys('create', '--team', 'ops', '--name', 'audited', '--json', '--database', DB)).stdout,
    );
    await keys('revoke', created.id, '--database', DB);
    await keys('revoke', created.id, '--database', DB); // already revoked: nothing changes, nothing recorded
    const entries = (await store.audit.list({ limit: 50, target: `key:${created.id}` })).reverse();
    expect(entries.map((e) => e.action)).toEqual(['key.create', 'key.revoke']);
    expect(entries[0]).toMatchObject({ actor: expect.stringMatching(/^cli(:.+)?$/), request_id: null });
    expect(JSON.parse(entries[0]!.details!)).toEqual({
      team: 'ops',
      name: 'audited',
      expires_at: null,
      limits: null,
      budgets: null,
    });
    expect(JSON.stringify(entries)).not.toContain(created.key);
    expect(JSON.stringify(entries)).not.toContain(created.prefix);
  });

  it('exits 1 for an unknown id and 2 without one', async () => {
    const unknown = await keys('revoke', 'key_nope', '--database', DB);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no key "key_nope"; `quorum keys list` shows the ids/);
    const missing = await keys('revoke', '--database', DB);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/expected one key id/);
  });
});

describe('choosing the database', () => {
  it('uses QUORUM_DATABASE_URL when there is no --database', async () => {
    vi.stubEnv('QUORUM_DATABASE_URL', DB);
    try {
      const r = await keys('list', '--team', 'research', '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).length).toBeGreaterThan(0);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('exits 1 rather than creating an empty database where none exists, naming the path and how to choose another', async () => {
    const missing = join(dir, 'absent', 'q.db');
    const r = await keys('list', '--database', `sqlite:${missing}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no database at ${missing} (from --database sqlite:${missing})`);
    expect(r.stderr).toMatch(
      /nothing was created\. QUORUM_DATABASE_URL or --database choose the store `quorum serve` uses/,
    );
    expect(r.stderr).not.toMatch(/start the gateway once/i);
    expect(existsSync(missing)).toBe(false);
  });

  it('names the store it opened on stderr, so --json on stdout stays clean', async () => {
    const r = await keys('list', '--team', 'research', '--json', '--database', DB);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`store: ${DB}\n`);
    expect(JSON.parse(r.stdout).length).toBeGreaterThan(0);
  });

  it('takes QUORUM_DATABASE_URL in the sqlite:///abs/path URL form, as serve does', async () => {
    vi.stubEnv('QUORUM_DATABASE_URL', `sqlite://${join(dir, 'q.db')}`);
    try {
      const r = await keys('list', '--team', 'research', '--json');
      expect(r.stderr).toBe(`store: ${DB}\n`);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).length).toBeGreaterThan(0);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('without QUORUM_DATABASE_URL, looks for ./data/quorum.db where it runs and says so, creating nothing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'quorum-keys-cwd-'));
    try {
      const r = quorum(['keys', 'list'], cleanEnv(), empty);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(
        `no database at ${join(empty, 'data/quorum.db')} (from the default, sqlite:./data/quorum.db in ${empty})`,
      );
      expect(r.stderr).toMatch(/QUORUM_DATABASE_URL or --database choose/);
      expect(existsSync(join(empty, 'data'))).toBe(false);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('exits 2 for a database URL it cannot read', async () => {
    const r = await keys('list', '--database', 'mysql://db/quorum');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unsupported database URL/);
  });

  it('exits 2 without a subcommand or with an unknown one', async () => {
    expect((await keys()).code).toBe(2);
    const r = await keys('rotate');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown subcommand "rotate"/);
  });
});

describe('static keys of the config file', () => {
  const config = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  // The provider's secret and one static key come from variables this shell does not have, as when an
  // operator manages keys from a shell without the gateway's secrets.
  const CONFIG = config(
    'quorum.yaml',
    [
      'providers:',
      '  - { id: openai, type: openai, api_key: "${QUORUM_TEST_UNSET_PROVIDER_SECRET}" }',
      'teams:',
      '  - { id: research }',
      '  - { id: configured }',
      'keys:',
      '  - { key: sk-static-ci-0123456789, team: research, name: ci }',
      '  - { key: "${QUORUM_TEST_UNSET_BOT_KEY}", team: configured, name: bot }',
      '  - { key: sk-static-anon-0123456789, team: research }',
      '',
    ].join('\n'),
  );

  it('lists them marked static, with name and team, no id and never the key', async () => {
    const r = await keys('list', '--config', CONFIG, '--database', DB);
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n');
    expect(rows).toContainEqual(expect.stringMatching(/^-\s+research\s+ci\s+-\s+-\s+never\s+-\s+static$/));
    expect(rows).toContainEqual(expect.stringMatching(/^-\s+configured\s+bot\s+-\s+-\s+never\s+-\s+static$/));
    expect(rows).toContainEqual(expect.stringMatching(/^-\s+research\s+\(unnamed\)\s.*static$/));
    expect(r.stdout).toContain(`Static keys are defined in ${CONFIG} (keys:)`);
    expect(r.stdout).not.toContain('sk-static');
    expect(r.stdout).not.toContain('unset-in-this-shell');
    expect(r.stderr).toContain(`config: ${CONFIG}\n`);
  });

  it('lists them as JSON with how the ledger names them, filtered by --team, read from QUORUM_CONFIG', async () => {
    vi.stubEnv('QUORUM_CONFIG', CONFIG);
    try {
      const r = await keys('list', '--team', 'research', '--json', '--database', DB);
      expect(r.code).toBe(0);
      const statics = JSON.parse(r.stdout).filter((k: any) => k.source === 'config');
      expect(statics).toEqual([
        {
          id: null,
          team: 'research',
          name: 'ci',
          source: 'config',
          status: 'active',
          ledger_key: 'static:ci',
        },
        { id: null, team: 'research', name: null, source: 'config', status: 'active', ledger_key: null },
      ]);
      expect(r.stdout).not.toContain('sk-static');
      // A team only the config file has so far is a team all the same.
      const only = await keys('list', '--team', 'configured', '--json', '--database', DB);
      expect(only.code).toBe(0);
      expect(JSON.parse(only.stdout).map((k: any) => k.name)).toEqual(['bot']);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('refuses to revoke one, saying it is defined in the config file', async () => {
    for (const id of ['static:ci', 'ci']) {
      const r = await keys('revoke', id, '--config', CONFIG, '--database', DB);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `"ci" (team research) is a static key, defined in the config file ${CONFIG} (keys:): remove it there`,
      );
    }
  });

  it('creates a key for a team of the config file the store has not seen yet', async () => {
    const r = await keys(
      'create',
      '--team',
      'configured',
      '--name',
      'app',
      '--json',
      '--config',
      CONFIG,
      '--database',
      DB,
    );
    expect(r.stderr).not.toMatch(/not found/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ team: 'configured', name: 'app' });
  });

  it('exits 2 naming the problems of a configuration it cannot read', async () => {
    const bad = config(
      'bad.yaml',
      'keys:\n  - { key: sk-static-ci-0123456789, team: "${QUORUM_TEST_UNSET_TEAM}" }\n',
    );
    const r = await keys('list', '--config', bad, '--database', DB);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read the configuration/);
    expect(r.stderr).toMatch(/keys\[0\]\.team: environment variable QUORUM_TEST_UNSET_TEAM is not set/);
  });
});

describe.runIf(process.env.QUORUM_TEST_POSTGRES_URL)('on Postgres through QUORUM_DATABASE_URL', () => {
  let pgs: Awaited<ReturnType<typeof postgresSchema>>;
  let url: string;

  beforeAll(async () => {
    // The test server trusts local connections; the password is there to show it is never printed.
    pgs = await postgresSchema('quorum_cli_keys', { password: 'not-shown' });
    url = pgs.url;
    const pgStore = await openStore(url);
    await pgStore.teams.create({ id: 'research' });
    await pgStore.close();
  });
  afterAll(() => pgs.drop());

  it("creates and lists keys in the gateway's Postgres store, naming it without the password", async () => {
    vi.stubEnv('QUORUM_DATABASE_URL', url);
    try {
      const created = await keys('create', '--team', 'research', '--name', 'pg', '--json');
      expect(created.code).toBe(0);
      const { id } = JSON.parse(created.stdout);
      const r = await keys('list', '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).map((k: any) => k.id)).toEqual([id]);
      expect(r.stderr).toMatch(/^store: postgres:\/\/\w+:\*\*\*@127\.0\.0\.1:5432\/\w+\?options=/);
      expect(r.stderr).not.toContain('not-shown');
      const rows = await pgs.query(`select count(*)::int as n from ${pgs.schema}.keys`);
      expect(rows.rows[0].n).toBe(1);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
