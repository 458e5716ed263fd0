import type { ModelSpec } from '../../routing/types.ts';
import { GatewayError } from '../errors/index.ts';
import { orderDeployments } from './balance.ts';
import type { Caller } from './caller.ts';
import type { Deployment } from './deployment.ts';
import type { Gateway } from './gateway.ts';

function allowed(caller: Caller, name: string, spec: ModelSpec): boolean {
  const list = caller.allowedModels;
  return !list || list.has(name) || list.has(spec.id) || spec.aliases.some((a) => list.has(a));
}

/**
 * The ordered deployments to try for a model name: its own deployments, then its fallbacks (the
 * request's `quorum.fallbacks` when given — `[]` turns fallback off — else `routing.fallbacks`).
 */
export function buildChain(
  gw: Gateway,
  caller: Caller,
  name: string,
  requestFallbacks?: string[],
): Deployment[] {
  const specs = gw.table.resolve(name);
  if (!specs.length) {
    throw new GatewayError(
      'model_not_found',
      `The model \`${name}\` does not exist. Known models: ${gw.table.ids().join(', ')} (GET /v1/models lists them with aliases).`,
      { param: 'model' },
    );
  }
  const primary = specs[0]!;
  if (!allowed(caller, name, primary)) {
    throw new GatewayError(
      'model_not_allowed',
      `Team \`${caller.team}\` may not use the model \`${name}\`.`,
      {
        param: 'model',
      },
    );
  }
  const chain = orderDeployments(
    specs.map((s) => gw.deployment(s)),
    gw.health,
    Math.random,
  );
  const fallbackNames = requestFallbacks ?? gw.config.routing.fallbacks[primary.id] ?? [];
  for (const fb of fallbackNames) {
    const specs = gw.table.resolve(fb).filter((spec) => allowed(caller, fb, spec));
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
