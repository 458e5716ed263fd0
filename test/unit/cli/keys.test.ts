/** `quorum keys create|list|revoke`, run in-process against a temporary SQLite database. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { keysCommand } from '../../../src/cli/keys.ts';
import { openStore, type Store } from '../../../src/store/index.ts';

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
    expect(r.stderr).toMatch(/start the gateway once.*POST \/admin\/teams/s);
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

  it('exits 1 rather than creating an empty database where none exists', async () => {
    const missing = join(dir, 'absent', 'q.db');
    const r = await keys('list', '--database', `sqlite:${missing}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no database at ${missing}`);
    expect(r.stderr).toMatch(/quorum serve/);
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
