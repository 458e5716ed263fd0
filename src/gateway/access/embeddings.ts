/**
 * The authorization decision of an embeddings request: the named embedding model's deployments, then
 * its fallbacks (the request's `quorum.fallbacks`, else `routing.fallbacks`), each embedding models the
 * caller may use — decided before any call. There is no routing: vectors of different models are not
 * comparable, so the client names the model, and only an operator's (or the request's own) fallbacks
 * may answer with another.
 */
import type { EmbeddingsRequest } from '../../embeddings/index.ts';
import { GatewayError } from '../../errors/index.ts';
import type { Catalog, Deployment } from '../deployments/index.ts';
import type { Caller } from './caller.ts';
import { buildChain } from './chain.ts';
import { ownValue } from './own-key.ts';

const AUTO = /^auto(?::|$)/;

/** The deployments an embeddings request may call, in order; refuses what cannot embed. */
export function authorizeEmbeddings(
  catalog: Catalog,
  caller: Caller,
  request: EmbeddingsRequest,
): Deployment[] {
  const name = request.model;
  if (AUTO.test(name) || ownValue(catalog.config.ensembles, name)) {
    throw new GatewayError(
      'invalid_body',
      `\`${name}\` ${AUTO.test(name) ? 'routes' : 'fans out'} chat requests; embeddings need an embedding model named as \`model\` (vectors of different models are not comparable).`,
      { param: 'model' },
    );
  }
  const chain = buildChain(catalog, caller, name, request.quorum?.fallbacks, { kind: 'embeddings' });
  const embedding = chain.filter((dep) => dep.adapter.embed !== undefined);
  if (!embedding.length) {
    const types = [...new Set(chain.map((dep) => dep.provider.type))].join(', ');
    throw new GatewayError(
      'invalid_body',
      `\`${name}\` is served by ${types}, which has no embeddings API.`,
      {
        param: 'model',
      },
    );
  }
  return embedding;
}
