import { describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../../src/config/index.ts';
import { GatewayError } from '../../../src/errors/index.ts';
import { KeyRing } from '../../../src/server/auth.ts';

const config = (keys: GatewayConfig['keys'], teams: GatewayConfig['teams'] = []) =>
  ({ keys, teams }) as unknown as GatewayConfig;

async function refusal(run: () => Promise<unknown>): Promise<GatewayError> {
  try {
    await run();
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error('expected a refusal');
}

describe('KeyRing', () => {
  it('with no keys and no master key, every request is the default team’s', async () => {
    const ring = new KeyRing(config([]));
    expect(ring.open).toBe(true);
    expect(await ring.authenticate(undefined, undefined)).toMatchObject({
      team: 'default',
      keyName: null,
      allowedModels: null,
    });
  });

  it('resolves a static key to its team, name and allow-list, from either header', async () => {
    const ring = new KeyRing(
      config(
        [{ key: 'qk-alpha-123456', team: 'research', name: 'ci' }],
        [{ id: 'research', models: ['m1'] }],
      ),
    );
    const caller = await ring.authenticate('Bearer qk-alpha-123456', undefined);
    expect(caller).toMatchObject({ team: 'research', keyName: 'ci' });
    expect([...caller.allowedModels!]).toEqual(['m1']);
    expect((await ring.authenticate('bearer   qk-alpha-123456  ', undefined)).team).toBe('research');
    expect((await ring.authenticate(undefined, 'qk-alpha-123456')).team).toBe('research');
  });

  it('refuses missing, unknown and near-miss keys with 401 invalid_api_key', async () => {
    const ring = new KeyRing(config([{ key: 'qk-alpha-123456', team: 'research' }]));
    for (const [auth, header] of [
      [undefined, undefined],
      ['Bearer qk-alpha-12345', undefined],
      ['Bearer qk-alpha-1234567', undefined],
      ['Basic qk-alpha-123456', undefined],
    ] as const) {
      const err = await refusal(() => ring.authenticate(auth, header));
      expect(err).toBeInstanceOf(GatewayError);
      expect([err.status, err.code]).toEqual([401, 'invalid_api_key']);
    }
  });

  it('accepts the master key as the operator, under an id no team can take, and closes open mode', async () => {
    const ring = new KeyRing(config([]), 'master-secret-xyz');
    expect(ring.open).toBe(false);
    expect(await ring.authenticate('Bearer master-secret-xyz', undefined)).toMatchObject({
      team: '@master',
      operator: true,
      keyName: 'master',
      allowedModels: null,
      budget: null,
    });
    expect((await refusal(() => ring.authenticate(undefined, undefined))).status).toBe(401);
  });
});
