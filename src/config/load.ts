/**
 * The configuration: the YAML file (bounded against hostile YAML), `${VAR}` interpolation, the
 * built-in catalog, environment-key providers, and every cross-reference checked, each problem with
 * its path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { ZodError } from 'zod';
import { CATEGORIES, type Category, isEmbeddingModel, type ModelSpec } from '../../routing/types.ts';
import { expandMembers, memberModel } from '../chat/index.ts';
import { DEMO_MODELS } from '../providers/demo/models.ts';
import { DEMO_PRESETS, describePresets } from '../providers/demo/presets.ts';
import { nestingDepthExceeds } from '../server/nesting.ts';
import { formatPath } from './format-path.ts';
import { type InterpolationProblem, interpolate } from './interpolate.ts';
import {
  type AlertsConfig,
  ConfigSchema,
  type EnsembleConfig,
  type KeyConfig,
  ModelSchema,
  type ProviderConfig,
  ProviderSchema,
  type RawConfig,
  type TeamConfig,
} from './schema.ts';

export const DEFAULT_CONFIG_PATH = 'config/quorum.yaml';
export const CATALOG_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../../config/models.yaml');

export interface GatewayConfig {
  /** The file read, or null when running without one. */
  source: string | null;
  server: RawConfig['server'];
  providers: ProviderConfig[];
  models: ModelSpec[];
  routing: RawConfig['routing'];
  cache: RawConfig['cache'];
  limits: RawConfig['limits'];
  metrics: RawConfig['metrics'];
  /** The request log: whether it is kept, with prompt and answer text or not, and for how long. */
  logging: RawConfig['logging'];
  /** Budget alerts: the webhooks (each with its name, default its URL's host) and the retry schedule. */
  alerts: Omit<AlertsConfig, 'webhooks'> & { webhooks: { url: string; secret: string; name: string }[] };
  /** Workflow steps: the job lock, concurrency and queue prefix when several instances share them. */
  workflows: RawConfig['workflows'];
  /** Output caps for callers with a budget (absent: the defaults, 4096 and 256 tokens). */
  budget?: RawConfig['budget'];
  ensembles: Record<string, EnsembleConfig>;
  teams: TeamConfig[];
  keys: KeyConfig[];
  /** Lines for the startup log explaining where providers and models came from. */
  notes: string[];
  /**
   * Catalog names (ids and aliases) no configured provider serves, with the provider type that would:
   * so a 404 can say what to set rather than only that the name is unknown.
   */
  unserved?: Record<string, string>;
}

/** Thrown with every problem found; the CLI prints one line each and exits 2. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadOptions {
  /** Explicit path (CLI argument); otherwise QUORUM_CONFIG, otherwise config/quorum.yaml if present. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  /** Catalog file (tests may point elsewhere). */
  catalogPath?: string;
}

/**
 * Bounds on a YAML file: aliases expand by reference, so a few lines of nested aliases ("billion
 * laughs") would build billions of nodes, and everything after parsing walks the tree recursively.
 * No real configuration comes near either.
 */
export const YAML_MAX_ALIASES = 100;
export const YAML_MAX_DEPTH = 64;

function readYaml(path: string, label: string, problems: string[]): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${label}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return undefined;
  }
  let data: unknown;
  try {
    const doc = parseDocument(text);
    if (doc.errors.length) {
      for (const e of doc.errors) {
        const where = e.linePos?.[0] ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '';
        // The parser reports its own stack overflow as a syntax error: say what it means.
        const message = /call stack/i.test(e.message)
          ? `nested deeper than ${YAML_MAX_DEPTH} levels`
          : e.message.split('\n')[0];
        problems.push(`${label}${where}: ${message}`);
        if (/call stack/i.test(e.message)) break;
      }
      return undefined;
    }
    data = doc.toJS({ maxAliasCount: YAML_MAX_ALIASES });
  } catch (err) {
    // The yaml library throws ReferenceError past maxAliasCount; a deep enough tree overflows its stack.
    const reason =
      err instanceof RangeError
        ? `nested deeper than ${YAML_MAX_DEPTH} levels`
        : /alias/i.test((err as Error).message)
          ? `uses aliases more than ${YAML_MAX_ALIASES} times in expansion (a YAML alias bomb?)`
          : (err as Error).message.split('\n')[0];
    problems.push(`${label}: ${reason}`);
    return undefined;
  }
  const deep = nestingDepthExceeds(data, YAML_MAX_DEPTH);
  if (deep) {
    problems.push(`${label}: nested deeper than ${YAML_MAX_DEPTH} levels (at ${formatPath(deep.path)})`);
    return undefined;
  }
  return data ?? {};
}

function zodProblems(error: ZodError, prefix: readonly PropertyKey[] = []): string[] {
  return error.issues.map((i) => `${formatPath([...prefix, ...i.path])}: ${i.message}`);
}

interface CatalogEntry extends Record<string, unknown> {
  id: string;
  provider: string;
}

export function loadCatalog(path = CATALOG_PATH): CatalogEntry[] {
  const problems: string[] = [];
  const data = readYaml(path, 'catalog', problems) as { models?: CatalogEntry[] } | undefined;
  if (problems.length) throw new ConfigError(problems);
  return data?.models ?? [];
}

/** A validated model entry as routing sees it: every category's quality, upstream and output bound filled in. */
export function completeModel(parsed: ReturnType<typeof ModelSchema.parse>): ModelSpec {
  const quality = {} as Record<Category, number>;
  for (const c of CATEGORIES) quality[c] = parsed.quality[c] ?? parsed.quality.general ?? 0.5;
  return {
    ...parsed,
    upstream: parsed.upstream ?? parsed.id,
    // An embedding model writes no output tokens.
    max_output_tokens: parsed.max_output_tokens ?? 0,
    capabilities: parsed.capabilities as ModelSpec['capabilities'],
    quality,
  };
}

function providersFromEnv(env: NodeJS.ProcessEnv, problems: string[]): ProviderConfig[] {
  const found: ProviderConfig[] = [];
  const add = (id: 'openai' | 'anthropic' | 'gemini', key: string | undefined, baseUrlVar: string) => {
    if (!key) return;
    const baseUrl = env[baseUrlVar];
    const parsed = ProviderSchema.safeParse({
      id,
      type: id,
      api_key: key,
      ...(baseUrl ? { base_url: baseUrl } : {}),
    });
    if (parsed.success) found.push(parsed.data);
    else
      problems.push(
        ...parsed.error.issues.map((i) => `${i.path[0] === 'base_url' ? baseUrlVar : id}: ${i.message}`),
      );
  };
  add('openai', env.OPENAI_API_KEY, 'OPENAI_BASE_URL');
  add('anthropic', env.ANTHROPIC_API_KEY, 'ANTHROPIC_BASE_URL');
  add('gemini', env.GEMINI_API_KEY || env.GOOGLE_API_KEY, 'GEMINI_BASE_URL');
  return found;
}

/** A model with the path it was declared at, for problem messages. */
interface PlacedModel {
  spec: ModelSpec;
  path: string;
}

/** Config `models` entries, each completed from the catalog entry with the same id. */
function configuredModels(entries: unknown[], catalog: CatalogEntry[], problems: string[]): PlacedModel[] {
  const placed: PlacedModel[] = [];
  entries.forEach((entry, i) => {
    const id = (entry as { id?: unknown })?.id;
    const base = catalog.find((c) => c.id === id) ?? DEMO_MODELS.find((d) => d.id === id) ?? {};
    const parsed = ModelSchema.safeParse(entry && typeof entry === 'object' ? { ...base, ...entry } : entry);
    if (parsed.success) placed.push({ spec: completeModel(parsed.data), path: `models[${i}]` });
    else problems.push(...zodProblems(parsed.error, ['models', i]));
  });
  return placed;
}

/** With no `models` in the config: the catalog's models of each provider's type, bound to that provider. */
function catalogModels(
  providers: ProviderConfig[],
  catalog: CatalogEntry[],
  problems: string[],
): PlacedModel[] {
  const placed: PlacedModel[] = [];
  for (const p of providers) {
    if (p.type === 'demo') {
      placed.push(
        ...DEMO_MODELS.map((m) => ({ spec: { ...m, provider: p.id }, path: `demo model ${m.id}` })),
      );
      continue;
    }
    for (const entry of catalog.filter((c) => c.provider === p.type)) {
      const parsed = ModelSchema.safeParse({ ...entry, provider: p.id });
      if (parsed.success)
        placed.push({ spec: completeModel(parsed.data), path: `catalog model ${entry.id}` });
      else problems.push(...zodProblems(parsed.error, ['catalog', entry.id]));
    }
  }
  return placed;
}

/** Loads, interpolates and validates the configuration; throws ConfigError listing every problem. */
export function loadConfig(options: LoadOptions = {}): GatewayConfig {
  const env = options.env ?? process.env;
  const explicit = options.path ?? env.QUORUM_CONFIG;
  const path = explicit ?? (existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : undefined);
  const problems: string[] = [];
  const notes: string[] = [];

  let raw: unknown = {};
  if (path) {
    raw = readYaml(path, path, problems);
    if (raw === undefined) throw new ConfigError(problems);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ConfigError([`${path}: expected a mapping at the top level`]);
    }
  }
  const interpolationProblems: InterpolationProblem[] = [];
  raw = interpolate(raw, env, interpolationProblems);
  problems.push(...interpolationProblems.map((p) => `${p.path}: ${p.message}`));

  const catalog = loadCatalog(options.catalogPath);
  const rawModels = (raw as { models?: unknown }).models;
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    problems.push(...zodProblems(result.error).filter((p) => !p.startsWith('models[')));
    // Still check every model, so one run reports every problem.
    if (Array.isArray(rawModels)) configuredModels(rawModels, catalog, problems);
    throw new ConfigError(problems);
  }
  const cfg = result.data;

  let providers = cfg.providers ?? [];
  if (!cfg.providers?.length) {
    providers = providersFromEnv(env, problems);
    if (providers.length)
      notes.push(`providers from environment keys: ${providers.map((p) => p.id).join(', ')}`);
  }
  const demoServed = !providers.length && !problems.length;
  if (demoServed) providers = [ProviderSchema.parse({ id: 'demo', type: 'demo' })];

  const placed = cfg.models?.length
    ? configuredModels(cfg.models, catalog, problems)
    : catalogModels(providers, catalog, problems);
  const models = placed.map((p) => p.spec);

  // The demo, served because nothing else is, comes with a preset per strategy unless the file has its own.
  const ensembles = demoServed ? demoEnsembles(cfg.ensembles, models) : cfg.ensembles;
  if (demoServed) {
    const presets =
      ensembles === cfg.ensembles ? '' : `, with the ensemble presets ${describePresets(ensembles)}`;
    notes.push(
      `no provider configured and no OPENAI_API_KEY / ANTHROPIC_API_KEY / GEMINI_API_KEY set: serving the built-in deterministic demo provider${presets}`,
    );
  }

  problems.push(...crossCheck(providers, placed, { ...cfg, ensembles }));
  if (problems.length) throw new ConfigError(problems);

  return {
    source: path ?? null,
    server: cfg.server,
    providers,
    models,
    routing: cfg.routing,
    cache: cfg.cache,
    limits: cfg.limits,
    metrics: cfg.metrics,
    logging: cfg.logging,
    alerts: {
      ...cfg.alerts,
      webhooks: cfg.alerts.webhooks.map((w) => ({ ...w, name: w.name ?? new URL(w.url).host })),
    },
    workflows: cfg.workflows,
    budget: cfg.budget,
    ensembles,
    teams: cfg.teams,
    keys: cfg.keys,
    notes,
    unserved: unservedNames(catalog, models),
  };
}

function unservedNames(catalog: CatalogEntry[], models: ModelSpec[]): Record<string, string> {
  const served = new Set(models.flatMap((m) => [m.id, ...(m.aliases ?? [])]));
  const out: Record<string, string> = Object.create(null);
  for (const entry of catalog) {
    const aliases = Array.isArray(entry.aliases) ? (entry.aliases as unknown[]) : [];
    for (const name of [entry.id, ...aliases]) {
      if (typeof name === 'string' && !served.has(name)) out[name] = entry.provider;
    }
  }
  return out;
}

/** The demo presets, when the configuration defines no ensembles and every model they use is served. */
function demoEnsembles(
  configured: Record<string, EnsembleConfig>,
  models: ModelSpec[],
): Record<string, EnsembleConfig> {
  if (Object.keys(configured).length) return configured;
  const ids = new Set(models.map((m) => m.id));
  const usable = Object.values(DEMO_PRESETS).every((p) =>
    [...p.models.map(memberModel), p.judge, p.synthesizer].every((m) => m === undefined || ids.has(m)),
  );
  return usable ? DEMO_PRESETS : configured;
}

const AUTO = /^auto(:(cost|quality|latency|balanced))?$/;

function crossCheck(providers: ProviderConfig[], models: PlacedModel[], cfg: RawConfig): string[] {
  const problems: string[] = [];
  const providerIds = new Set<string>();
  providers.forEach((p, i) => {
    if (providerIds.has(p.id)) problems.push(`providers[${i}].id: duplicate provider id "${p.id}"`);
    providerIds.add(p.id);
    if (p.responses !== undefined && p.type !== 'openai') {
      problems.push(
        `providers[${i}].responses: only an openai provider serves the Responses API (a ${p.type} provider's models are translated)`,
      );
    }
  });

  const names = new Map<string, string>(); // name → what it is, for collision messages
  for (const { spec, path } of models) {
    if (!providerIds.has(spec.provider)) {
      problems.push(
        `${path}.provider: unknown provider "${spec.provider}" (known: ${[...providerIds].join(', ')})`,
      );
    }
    const type = providers.find((p) => p.id === spec.provider)?.type;
    if (type === 'anthropic' && isEmbeddingModel(spec)) {
      problems.push(
        `${path}.capabilities: Anthropic has no embeddings API; serve an embedding model from an openai or gemini provider`,
      );
    }
    names.set(spec.id, 'model');
  }
  for (const { spec, path } of models) {
    spec.aliases.forEach((a, j) => {
      const owner = names.get(a);
      if (owner && owner !== `alias of ${spec.id}` && a !== spec.id) {
        problems.push(`${path}.aliases[${j}]: "${a}" is already a ${owner}`);
      }
      names.set(a, `alias of ${spec.id}`);
    });
  }
  const known = (name: string) => names.has(name) || name in cfg.ensembles || AUTO.test(name);
  // Names (ids and aliases) of embedding models: they answer POST /v1/embeddings only.
  const embedding = new Set(
    models.filter(({ spec }) => isEmbeddingModel(spec)).flatMap(({ spec }) => [spec.id, ...spec.aliases]),
  );

  for (const [from, chain] of Object.entries(cfg.routing.fallbacks)) {
    if (!names.has(from)) problems.push(`routing.fallbacks.${from}: unknown model "${from}"`);
    chain.forEach((m, i) => {
      if (!names.has(m)) problems.push(`routing.fallbacks.${from}[${i}]: unknown model "${m}"`);
      else if (names.has(from) && embedding.has(m) !== embedding.has(from)) {
        problems.push(
          `routing.fallbacks.${from}[${i}]: "${m}" is ${embedding.has(m) ? 'an embedding model' : 'a chat model'} and "${from}" is not; a chain stays with one kind`,
        );
      }
    });
  }
  for (const [name, e] of Object.entries(cfg.ensembles)) {
    if (names.has(name)) problems.push(`ensembles.${name}: the name is already a model or alias`);
    const chatModel = (path: string, m: string) => {
      if (!names.has(m)) problems.push(`${path}: unknown model "${m}"`);
      else if (embedding.has(m))
        problems.push(`${path}: "${m}" is an embedding model; it cannot answer chat`);
    };
    e.models.forEach((m, i) => {
      chatModel(`ensembles.${name}.models[${i}]${typeof m === 'string' ? '' : '.model'}`, memberModel(m));
    });
    for (const p of expandMembers(e.models, e).problems)
      problems.push(`ensembles.${name}.models${p.path}: ${p.message}`);
    if (e.judge) chatModel(`ensembles.${name}.judge`, e.judge);
    if (e.synthesizer) chatModel(`ensembles.${name}.synthesizer`, e.synthesizer);
    if (e.synthesizer && e.strategy !== 'fusion')
      problems.push(`ensembles.${name}.synthesizer: only the fusion strategy has a synthesizer`);
    if (!e.judge && e.strategy === 'fusion')
      problems.push(`ensembles.${name}.judge: required by the fusion strategy (it writes the analysis)`);
  }

  const teamIds = new Set<string>();
  cfg.teams.forEach((t, i) => {
    if (teamIds.has(t.id)) problems.push(`teams[${i}].id: duplicate team id "${t.id}"`);
    teamIds.add(t.id);
    t.models?.forEach((m, j) => {
      if (!known(m)) problems.push(`teams[${i}].models[${j}]: unknown model or preset "${m}"`);
    });
  });
  const hooks = new Set<string>();
  cfg.alerts.webhooks.forEach((w, i) => {
    const name = w.name ?? new URL(w.url).host;
    if (hooks.has(name)) {
      problems.push(
        `alerts.webhooks[${i}].name: another webhook is already named "${name}"${w.name ? '' : ' (its host)'}; give each a distinct name`,
      );
    }
    hooks.add(name);
  });
  const keys = new Set<string>();
  cfg.keys.forEach((k, i) => {
    if (!teamIds.has(k.team) && k.team !== 'default')
      problems.push(`keys[${i}].team: unknown team "${k.team}"`);
    if (keys.has(k.key)) problems.push(`keys[${i}].key: duplicate key`);
    keys.add(k.key);
  });
  return problems;
}
