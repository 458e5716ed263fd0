/**
 * The ordered deployments one model name may be tried on: its own deployments, then its fallbacks,
 * with every fallback outside the caller's allow-list left out.
 */
import type { ModelSpec } from '../../routing/types.ts';
import { GatewayError } from '../errors/index.ts';
import { orderDeployments } from './balance.ts';
import type { Caller } from './caller.ts';
import type { Deployment } from './deployment.ts';
import type { Gateway } from './gateway.ts';
import { ownValue } from './own-key.ts';

/** Whether the team's allow-list names this deployment (by the name used, its id or any alias). */
export function isAllowed(caller: Caller, name: string, spec: ModelSpec): boolean {
  const list = caller.allowedModels;
  return !list || list.has(name) || list.has(spec.id) || spec.aliases.some((a) => list.has(a));
}

export interface ChainOptions {
  /**
   * The name itself was authorised by an allowed preset that lists it (the operator chose it); its
   * fallbacks still have to be on the allow-list, since the preset does not name them.
   */
  presetMember?: boolean;
  /** The request field that named the model, for errors. */
  param?: string;
}

/**
 * The ordered deployments to try for a model name: its own deployments, then its fallbacks (the
 * request's `quorum.fallbacks` when given — `[]` turns fallback off — else `routing.fallbacks`).
 */
export function buildChain(
  gw: Gateway,
  caller: Caller,
  name: string,
  requestFallbacks?: readonly string[],
  options: ChainOptions = {},
): Deployment[] {
  const param = options.param ?? 'model';
  const specs = gw.table.resolve(name);
  if (!specs.length) {
    throw new GatewayError(
      'model_not_found',
      `The model \`${name}\` does not exist. Known models: ${gw.table.ids().join(', ')} (GET /v1/models lists them with aliases).`,
      { param },
    );
  }
  const primary = specs[0]!;
  if (!options.presetMember && !isAllowed(caller, name, primary)) {
    throw new GatewayError(
      'model_not_allowed',
      `Team \`${caller.team}\` may not use the model \`${name}\`.`,
      {
        param,
      },
    );
  }
  const chain = orderDeployments(
    specs.map((s) => gw.deployment(s)),
    gw.health,
    Math.random,
  );
  const fallbackNames = requestFallbacks ?? ownValue(gw.config.routing.fallbacks, primary.id) ?? [];
  for (const fb of fallbackNames) {
    const specs = gw.table.resolve(fb).filter((spec) => isAllowed(caller, fb, spec));
    for (const dep of orderDeployments(
      specs.map((s) => gw.deployment(s)),
      gw.health,
      Math.random,
    )) {
      if (!chain.includes(dep)) chain.push(dep);
    }
  }
  return chain;
}
