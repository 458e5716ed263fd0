/**
 * The ordered deployments one model name may be tried on: its own deployments, then its fallbacks,
 * with every fallback outside the caller's allow-list left out.
 */
import { isEmbeddingModel, type ModelSpec } from '../../../routing/types.ts';
import { GatewayError } from '../../errors/index.ts';
import { type Catalog, type Deployment, orderDeployments } from '../deployments/index.ts';
import type { Caller } from './caller.ts';
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
  /**
   * What the request asks the model for: `chat` (the default) takes chat models only, `embeddings`
   * embedding models only. A fallback of the other kind is left out, as one outside the allow-list is.
   */
  kind?: ModelKind;
}

export type ModelKind = 'chat' | 'embeddings';

const kindOf = (spec: ModelSpec): ModelKind => (isEmbeddingModel(spec) ? 'embeddings' : 'chat');

/** The 400 for a model of the other kind: what it is, and where it would be served. */
function wrongKind(catalog: Catalog, name: string, kind: ModelKind, param: string): GatewayError {
  if (kind === 'chat') {
    return new GatewayError(
      'invalid_body',
      `\`${name}\` is an embedding model: it answers POST /v1/embeddings, not chat requests.`,
      { param },
    );
  }
  const embedding = catalog.table.models.filter(isEmbeddingModel).map((m) => m.id);
  const served = embedding.length
    ? `Embedding models here: ${[...new Set(embedding)].join(', ')}.`
    : 'No embedding model is configured here.';
  return new GatewayError(
    'invalid_body',
    `\`${name}\` is not an embedding model (its capabilities lack \`embeddings\`): POST /v1/embeddings needs one. ${served}`,
    { param },
  );
}

/**
 * The ordered deployments to try for a model name: its own deployments, then its fallbacks (the
 * request's `quorum.fallbacks` when given — `[]` turns fallback off — else `routing.fallbacks`).
 */
export function buildChain(
  catalog: Catalog,
  caller: Caller,
  name: string,
  requestFallbacks?: readonly string[],
  options: ChainOptions = {},
): Deployment[] {
  const param = options.param ?? 'model';
  const specs = catalog.table.resolve(name);
  if (!specs.length) {
    throw new GatewayError('model_not_found', unknownModel(catalog, name), { param });
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
  const kind = options.kind ?? 'chat';
  if (kindOf(primary) !== kind) throw wrongKind(catalog, name, kind, param);
  const chain = orderDeployments(
    specs.map((s) => catalog.deployment(s)),
    catalog.health,
    Math.random,
  );
  const fallbackNames = requestFallbacks ?? ownValue(catalog.config.routing.fallbacks, primary.id) ?? [];
  for (const fb of fallbackNames) {
    const specs = catalog.table
      .resolve(fb)
      .filter((spec) => isAllowed(caller, fb, spec) && kindOf(spec) === kind);
    for (const dep of orderDeployments(
      specs.map((s) => catalog.deployment(s)),
      catalog.health,
      Math.random,
    )) {
      if (!chain.includes(dep)) chain.push(dep);
    }
  }
  return chain;
}

const KEY_OF: Record<string, string> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  gemini: 'GEMINI_API_KEY',
};

/** What a 404 says: what is served instead and, for a catalog name, how to serve it. */
function unknownModel(catalog: Catalog, name: string): string {
  const presets = Object.keys(catalog.config.ensembles);
  const served =
    `Served here: ${catalog.table.ids().join(', ')}` +
    (presets.length ? `; presets: ${presets.join(', ')}` : '') +
    ' (GET /v1/models lists them with aliases).';
  const provider =
    catalog.config.unserved && Object.hasOwn(catalog.config.unserved, name)
      ? catalog.config.unserved[name]
      : undefined;
  if (provider) {
    const key = KEY_OF[provider];
    return (
      `The model \`${name}\` is in the built-in catalog but no ${provider} provider is configured` +
      `${key ? `: set ${key} (or add a ${provider} provider to the configuration) and restart` : ''}. ${served}`
    );
  }
  return `The model \`${name}\` does not exist. ${served}`;
}
