/**
 * The admin API's gate: the caller must present QUORUM_MASTER_KEY. Both sides are hashed to SHA-256
 * first, so `timingSafeEqual` compares equal-length digests and the time taken says nothing about the key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { GatewayConfig } from '../../../config/index.ts';
import { GatewayError } from '../../../errors/index.ts';
import type { Store } from '../../../store/index.ts';
import type { AppEnv } from '../../env.ts';

const digest = (key: string) => createHash('sha256').update(key).digest();

function token(c: { req: { header(name: string): string | undefined } }): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization')?.trim() ?? '');
  return match?.[1]?.trim() || c.req.header('x-api-key')?.trim() || undefined;
}

export function adminAuth(
  config: GatewayConfig,
  store: Store,
  masterKey: string | undefined,
): MiddlewareHandler<AppEnv> {
  const master = masterKey ? digest(masterKey) : null;
  const teamKeys = new Set(config.keys.map((k) => digest(k.key).toString('base64url')));

  return async (c, next) => {
    if (!master) {
      throw new GatewayError(
        'invalid_api_key',
        'The admin API is disabled: set QUORUM_MASTER_KEY and restart the gateway to enable it.',
      );
    }
    const presented = token(c);
    if (!presented) {
      throw new GatewayError(
        'invalid_api_key',
        'Missing API key: the admin API needs `Authorization: Bearer $QUORUM_MASTER_KEY`.',
      );
    }
    const hashed = digest(presented);
    if (timingSafeEqual(hashed, master)) {
      c.set('adminActor', 'master_key');
      return next();
    }
    if (teamKeys.has(hashed.toString('base64url')) || (await store.keys.findByKey(presented))) {
      throw new GatewayError(
        'admin_only',
        'This is a team key; the admin API needs the master key (QUORUM_MASTER_KEY).',
      );
    }
    throw new GatewayError('invalid_api_key', 'Incorrect API key provided for the admin API.');
  };
}
