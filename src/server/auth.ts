import { createHash } from 'node:crypto';
import type { GatewayConfig } from '../config/index.ts';
import { GatewayError } from '../errors/index.ts';
import { type Caller, OPEN_CALLER } from '../gateway/index.ts';

const hash = (key: string) => createHash('sha256').update(key).digest('base64url');

/**
 * Static keys from the config. Keys are held only as SHA-256 digests and looked up by digest, so the
 * comparison never runs over the secret itself.
 */
export class KeyRing {
  private readonly byHash = new Map<string, Caller>();
  /** True when no keys and no master key are configured: everything is the default team's. */
  readonly open: boolean;

  constructor(config: GatewayConfig, masterKey?: string) {
    for (const k of config.keys) {
      const team = config.teams.find((t) => t.id === k.team);
      this.byHash.set(hash(k.key), {
        team: k.team,
        keyId: null,
        keyName: k.name ?? null,
        allowedModels: team?.models ? new Set(team.models) : null,
        budget: team?.budget
          ? {
              team: k.team,
              limitUsd: team.budget.limit_usd,
              period: team.budget.period,
              ...(team.budget.soft_limit_usd !== undefined
                ? { softLimitUsd: team.budget.soft_limit_usd }
                : {}),
            }
          : null,
        teamLimits: team?.limits ?? null,
        keyLimits: null,
      });
    }
    // The master key may call the API too (as LiteLLM's does), as the unrestricted default team.
    if (masterKey) this.byHash.set(hash(masterKey), { ...OPEN_CALLER, keyName: 'master' });
    this.open = this.byHash.size === 0;
  }

  /** Resolves the caller of a request from `Authorization: Bearer …` or `x-api-key`. */
  authenticate(authorization: string | undefined, apiKeyHeader: string | undefined): Caller {
    if (this.open) return OPEN_CALLER;
    const token = bearer(authorization) ?? apiKeyHeader?.trim();
    if (!token) {
      throw new GatewayError('invalid_api_key', 'Missing API key: send `Authorization: Bearer <key>`.');
    }
    const caller = this.byHash.get(hash(token));
    if (!caller) throw new GatewayError('invalid_api_key', 'Incorrect API key provided.');
    return caller;
  }
}

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim();
}
