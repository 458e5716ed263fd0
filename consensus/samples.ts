/**
 * Self-ensembles: n samples of one model, each asked at its own temperature, as candidates of any
 * strategy. A strategy gathers its candidates here rather than through `gather` directly, so each
 * sample's request carries its temperature and each sample's record says which temperature it had.
 * Samples of one model at temperature > 0 disagree where the model is unsure, which is what a vote,
 * a judge or a fusion needs to see (Self-MoA: several samples of one strong model often beat a mix
 * of weaker ones).
 */
import { GatherError, type Gathered, gather } from './gather.ts';
import type { CallRole, CandidateRecord, Complete, CompletionRequest, FanOutOptions } from './types.ts';

/** The request at a sample's temperature; unchanged when the sample has none of its own. */
export function sampleRequest(
  request: CompletionRequest,
  temperature: number | undefined,
): CompletionRequest {
  return temperature === undefined ? request : { ...request, temperature };
}

/**
 * Gathers the candidates of `options.models`, each asked at its temperature from
 * `options.temperatures`; records carry `temperature`, also on the GatherError's records.
 */
export async function gatherSamples(
  request: CompletionRequest,
  options: Pick<FanOutOptions, 'models' | 'temperatures' | 'quorum'>,
  complete: Complete,
  signal: AbortSignal,
  role: CallRole = 'candidate',
): Promise<Gathered> {
  const temperatures = options.temperatures;
  if (!temperatures?.some((t) => t !== undefined)) {
    return gather(options.models, request, complete, signal, options.quorum, role);
  }
  const requests = options.models.map((_, i) => sampleRequest(request, temperatures[i]));
  try {
    const got = await gather(options.models, requests, complete, signal, options.quorum, role);
    markTemperatures(got.records, temperatures);
    return got;
  } catch (error) {
    if (error instanceof GatherError) markTemperatures(error.records, temperatures);
    throw error;
  }
}

function markTemperatures(records: CandidateRecord[], temperatures: readonly (number | undefined)[]): void {
  records.forEach((record, i) => {
    const t = temperatures[i];
    if (t !== undefined) record.temperature = t;
  });
}
