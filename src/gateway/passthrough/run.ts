/**
 * A passthrough request's pipeline — the same stages as a chat request, around raw calls: plan (the
 * model's chain, authorised against the allow-list, fallbacks included, left to the deployments this
 * surface can call raw), admit (rate limits and a hold on the worst case), execute (breakers, queues,
 * retries, fallback across those deployments; a stream opens on the first that begins an answer),
 * reply (the upstream's bytes, the meta for the x-quorum-* headers) and settle.
 */
import { OUTPUT_RESERVE } from '../../../routing/filter.ts';
import type { CostBounds } from '../../../routing/route-types.ts';
import type { ProviderConfig, ProviderType } from '../../config/index.ts';
import { GatewayError } from '../../errors/index.ts';
import { UpstreamError } from '../../providers/upstream-error.ts';
import { buildChain, type Caller, chainFit, chainReserve, type Plan } from '../access/index.ts';
import {
  OutputCapping,
  type OutputCapSettings,
  outputAllowance,
  outputCapSettings,
} from '../budget/index.ts';
import { runChain } from '../calls/index.ts';
import type { Catalog, Deployment } from '../deployments/index.ts';
import type { Gateway } from '../gateway.ts';
import { admitRequest } from '../pipeline/index.ts';
import { type ChatMeta, roundMs, streamFailure } from '../replies/index.ts';
import { type ChatContext, type RequestBounds, RequestContext } from '../request/index.ts';
import { streamCall, wholeCall } from './raw-call.ts';
import type { PassthroughCall, PassthroughReply, RawEvent } from './types.ts';

/**
 * Whether a model name is served raw by this surface: it names catalog entries, and every one of them
 * is a deployment of one of `types` (a name also served by another kind of provider is translated).
 */
export function servedRaw(catalog: Catalog, name: string, types: readonly ProviderType[]): boolean {
  const specs = catalog.table.resolve(name);
  return specs.length > 0 && specs.every((spec) => types.includes(catalog.deployment(spec).provider.type));
}

/**
 * Whether a request for `name` is served raw whole: the name is a catalog entry and every deployment its
 * chain can reach — its own and, as the caller's allow-list leaves them, its fallbacks' — is accepted.
 * A surface that would rather translate than drop a fallback it cannot call raw asks this. Throws as
 * the chain does for a name the caller may not use.
 */
export function chainServedRaw(
  catalog: Catalog,
  caller: Caller,
  name: string,
  fallbacks: readonly string[] | undefined,
  accepts: (provider: ProviderConfig) => boolean,
): boolean {
  if (catalog.table.resolve(name).length === 0) return false;
  return buildChain(catalog, caller, name, fallbacks).every((dep) => accepts(dep.provider));
}

/** The name's chain (allow-list applied, fallbacks included) left to the deployments callable raw. */
function rawChain(catalog: Catalog, caller: Caller, call: PassthroughCall): Deployment[] {
  const chain = buildChain(catalog, caller, call.model, call.fallbacks);
  return chain.filter(
    (dep) => call.providerTypes.includes(dep.provider.type) && (call.accepts?.(dep.provider) ?? true),
  );
}

/** A passthrough request's worst case: the dearest deployment of its chain. A free call holds nothing. */
class RawBounds implements RequestBounds {
  private readonly plan: Plan;
  private cost: CostBounds | null;
  private readonly capSettings: OutputCapSettings | undefined;
  private capper: OutputCapping | null | undefined;

  /** `capSettings`: with a budget and a protocol that can set its body's output limit. */
  constructor(plan: Plan, cost: CostBounds | null, capSettings?: OutputCapSettings) {
    this.plan = plan;
    this.cost = cost;
    this.capSettings = capSettings;
  }

  capping(): OutputCapping | undefined {
    if (this.capper !== undefined) return this.capper ?? undefined;
    this.capper = null;
    const raw = this.cost;
    if (!this.capSettings || !raw) return undefined;
    const wanted =
      raw.maxOutputTokens ??
      outputAllowance(
        this.capSettings,
        this.plan.chain.map((d) => d.spec),
      );
    if (wanted == null) return undefined;
    const plan = this.plan;
    this.capper = new OutputCapping(wanted, raw.maxOutputTokens == null, this.capSettings, (cap) =>
      chainReserve(plan, { ...raw, maxOutputTokens: cap }),
    );
    // Held, like every other estimate, on the allowance it will be sent with.
    if (this.capper.defaulted) this.cost = { ...raw, maxOutputTokens: wanted };
    return this.capper;
  }

  reserveUsd(): number {
    this.capping();
    return this.cost ? chainReserve(this.plan, this.cost) : 0;
  }

  fitHint(remainingUsd: number): string | undefined {
    return this.cost ? chainFit(this.plan, this.cost, remainingUsd) : undefined;
  }

  estimateTokens(): number {
    const c = this.cost;
    return c ? (c.promptTokensMax ?? c.promptTokens) + (c.maxOutputTokens ?? OUTPUT_RESERVE) : 0;
  }
}

/**
 * The chain's failure as the client hears it. When every try was the provider saying it is overloaded
 * (529), that is the answer's code, so a surface can say it in the provider's own terms.
 */
function chainError(err: unknown, failures: number[]): unknown {
  if (!(err instanceof GatewayError) || err.kind !== 'upstream_failed') return err;
  if (!failures.length || !failures.every((status) => status === 529)) return err;
  return new GatewayError('upstream_failed', err.message, { code: 'upstream_overloaded', cause: err });
}

/** A stream that has begun: the events read while opening it, and the rest. */
interface Opened {
  preamble: RawEvent[];
  rest: AsyncGenerator<RawEvent>;
}

/** The chain's tries, each failure's status noted. */
function noting<T>(failures: number[], attempt: () => Promise<T>): Promise<T> {
  return attempt().catch((err: unknown) => {
    if (err instanceof UpstreamError) failures.push(err.status);
    throw err;
  });
}

/** Calls the model raw through the gateway's pipeline; see the file's comment. */
export async function passthrough(
  gw: Gateway,
  ctx: ChatContext,
  call: PassthroughCall,
): Promise<PassthroughReply> {
  const rc = new RequestContext(gw, ctx, call.tags);
  const plan: Plan = { chain: rawChain(gw, rc.caller, call) };
  const capSettings =
    rc.caller.budget && call.protocol.capOutput ? outputCapSettings(gw.config, rc.caller.team) : undefined;
  await admitRequest(
    gw.limits,
    gw.config.server.request_timeout_ms,
    rc,
    new RawBounds(plan, call.cost, capSettings),
  );
  // The budget's output cap goes upstream in the body's own output limit.
  if (rc.outputCap) {
    call.protocol.capOutput!(rc.outputCap.max_tokens);
    call = { ...call, span: { ...call.span, maxTokens: rc.outputCap.max_tokens } };
  }
  const failures: number[] = [];
  const callStart = performance.now();

  if (!call.stream) {
    try {
      const { value, deployment, attempts } = await runChain(gw, plan.chain, rc, (dep, done) =>
        noting(failures, () => wholeCall(gw.rawPools, dep, call, rc)).finally(done),
      );
      rc.attempts.push(...attempts);
      const meta: ChatMeta = {
        model: deployment.spec.id,
        costUsd: rc.spent.totalUsd,
        overheadMs: roundMs(callStart - rc.startedAt),
        headers: rc.headers,
      };
      return { stream: false, body: value, meta };
    } catch (err) {
      throw chainError(err, failures);
    } finally {
      await rc.end();
    }
  }

  let opened: Opened;
  let deployment: Deployment;
  try {
    const tried = await runChain(gw, plan.chain, rc, (dep, done) =>
      noting(failures, () => openStream(gw, dep, call, rc, done)),
    );
    opened = tried.value;
    deployment = tried.deployment;
    rc.attempts.push(...tried.attempts);
  } catch (err) {
    await rc.end();
    throw chainError(err, failures);
  }
  const firstEventAt = performance.now();
  const meta: ChatMeta = {
    model: deployment.spec.id,
    costUsd: 0,
    overheadMs: roundMs(callStart - rc.startedAt + (performance.now() - firstEventAt)),
    headers: rc.headers,
  };
  return { stream: true, meta, frames: new RawFrames(opened, rc, meta) };
}

/**
 * Starts a streamed call and reads it until the answer begins: a stream that fails before that (an
 * error event, a cut connection) can still be retried or fall back, as a plain call would.
 */
async function openStream(
  gw: Gateway,
  dep: Deployment,
  call: PassthroughCall,
  rc: RequestContext,
  done: () => void,
): Promise<Opened> {
  const stream = released(streamCall(gw.rawPools, dep, call, rc), done);
  const preamble: RawEvent[] = [];
  try {
    for (;;) {
      const next = await stream.next();
      if (next.done) {
        throw new UpstreamError(dep.provider.id, 0, 'the stream ended before any answer', {
          failure: 'bad_response',
        });
      }
      if (next.value.error) throw next.value.error;
      preamble.push(next.value);
      if (next.value.opens) return { preamble, rest: stream };
    }
  } catch (err) {
    await stream.return(undefined);
    throw err;
  }
}

/** The stream, with its provider-queue slot freed once it ends however it ends. */
async function* released(stream: AsyncGenerator<RawEvent>, done: () => void): AsyncGenerator<RawEvent> {
  try {
    yield* stream;
  } finally {
    done();
  }
}

/**
 * The frames the client gets: the preamble read while opening, then the rest as it arrives. An object
 * rather than a generator, so that closing it before it was ever read still closes the upstream call
 * and settles the request (a generator that never started would skip its own cleanup).
 */
class RawFrames implements AsyncIterator<string> {
  readonly #preamble: RawEvent[];
  readonly #rest: AsyncGenerator<RawEvent>;
  readonly #rc: RequestContext;
  readonly #meta: ChatMeta;
  #next = 0;
  #closed: Promise<void> | undefined;

  constructor(opened: Opened, rc: RequestContext, meta: ChatMeta) {
    this.#preamble = opened.preamble;
    this.#rest = opened.rest;
    this.#rc = rc;
    this.#meta = meta;
  }

  async next(): Promise<IteratorResult<string>> {
    if (this.#closed) return { done: true, value: undefined };
    const buffered = this.#preamble[this.#next];
    if (buffered) {
      this.#next++;
      return { done: false, value: buffered.frame };
    }
    try {
      const event = await this.#rest.next();
      if (!event.done) return { done: false, value: event.value.frame };
    } catch (err) {
      await this.close();
      throw streamFailure(this.#meta.model, err, this.#rc.timedOut);
    }
    await this.close();
    return { done: true, value: undefined };
  }

  async return(): Promise<IteratorResult<string>> {
    await this.close();
    return { done: true, value: undefined };
  }

  /** Closes the upstream call first, so it is charged before the request settles. Once. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      try {
        await this.#rest.return(undefined);
      } finally {
        this.#meta.costUsd = this.#rc.spent.totalUsd;
        await this.#rc.end();
      }
    })();
    return this.#closed;
  }
}
