/**
 * A fan-out's candidates, as every surface names them (the `quorum.ensemble` body field, POST
 * /v1/consensus, `ensembles:` presets, workflow ensemble steps): each member is a model name or a
 * self-ensemble entry `{model, samples?, temperature? | temperatures?}`, and `samples` / `temperatures`
 * beside `models` apply to every member that does not say otherwise. `expandMembers` turns them into
 * the candidate list: one slot per sample, each with its temperature.
 */
import { z } from 'zod';

/** The most samples one member may ask for. */
export const MAX_SAMPLES = 16;

const Temperature = z.number().min(0).max(2);
const Samples = z
  .int()
  .min(1)
  .max(MAX_SAMPLES)
  .describe(`How many answers to ask each model for (1 to ${MAX_SAMPLES}); each is a candidate.`);
const Temperatures = z
  .array(Temperature)
  .min(1)
  .max(MAX_SAMPLES)
  .describe(
    'The temperature of each sample (0 to 2), in order; without samples, one sample per temperature. One value: every sample at it.',
  );

interface Sampling {
  samples?: number | undefined;
  temperature?: number | undefined;
  temperatures?: number[] | undefined;
}

/**
 * `samples` and `temperatures` side by side must agree (zod's `superRefine`): one temperature per
 * sample, or one for all.
 */
export function checkSampling(
  value: { samples?: number | undefined; temperatures?: number[] | undefined },
  ctx: z.RefinementCtx,
): void {
  const problem = countProblem(value.samples, value.temperatures);
  if (problem) ctx.addIssue({ code: 'custom', path: ['temperatures'], message: problem });
}

/** A member's sampling: the counts agree, and one temperature field, not both. */
function checkMember(value: Sampling, ctx: z.RefinementCtx): void {
  if (value.temperature !== undefined && value.temperatures !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['temperatures'],
      message: 'give temperature (every sample) or temperatures (one per sample), not both',
    });
  }
  checkSampling(value, ctx);
}

function countProblem(samples: number | undefined, temperatures: readonly number[] | undefined) {
  if (samples === undefined || !temperatures || temperatures.length === 1) return undefined;
  if (temperatures.length === samples) return undefined;
  return `${temperatures.length} temperatures for ${samples} samples: give one per sample (or one for all)`;
}

export const SampledModelSchema = z
  .strictObject({
    model: z.string().min(1).describe('The model sampled (a catalog id, alias or auto[:policy]).'),
    samples: Samples.optional(),
    temperature: Temperature.optional().describe('The temperature of every sample of this model.'),
    temperatures: Temperatures.optional(),
  })
  .superRefine(checkMember)
  .describe('A self-ensemble: several samples of one model, each a candidate, at chosen temperatures.');

export const EnsembleMemberSchema = z.union([z.string().min(1), SampledModelSchema]);
export type EnsembleMember = z.infer<typeof EnsembleMemberSchema>;

/** `samples` and `temperatures` beside `models`: what every member gets unless it says otherwise. */
export const SamplingDefaults = { samples: Samples.optional(), temperatures: Temperatures.optional() };

export function memberModel(member: EnsembleMember): string {
  return typeof member === 'string' ? member : member.model;
}

/** One candidate slot: the model, the temperature it is asked at, and the member (index) it comes from. */
export interface Sample {
  model: string;
  temperature?: number;
  member: number;
}

/**
 * The candidates `members` name, each member's samples in a row. A member samples `samples` times
 * (its own, else the defaults'; else one per temperature; else once), at its `temperature`, its
 * `temperatures` or the defaults' (one value: all samples; else one per sample). A count that does not
 * match is a problem naming the member, as a path relative to `models`.
 */
export function expandMembers(
  members: readonly EnsembleMember[],
  defaults: { samples?: number | undefined; temperatures?: number[] | undefined } = {},
): { samples: Sample[]; problems: { path: string; message: string }[] } {
  const samples: Sample[] = [];
  const problems: { path: string; message: string }[] = [];
  members.forEach((m, i) => {
    const own: Sampling = typeof m === 'string' ? {} : m;
    const temps =
      own.temperatures ?? (own.temperature !== undefined ? [own.temperature] : defaults.temperatures);
    const count = own.samples ?? own.temperatures?.length ?? defaults.samples ?? temps?.length ?? 1;
    const problem = countProblem(count, temps);
    if (problem) {
      problems.push({ path: typeof m === 'string' ? `[${i}]` : `[${i}].samples`, message: problem });
      return;
    }
    for (let k = 0; k < count; k++) {
      const t = temps ? (temps.length === 1 ? temps[0] : temps[k]) : undefined;
      samples.push({ model: memberModel(m), member: i, ...(t !== undefined ? { temperature: t } : {}) });
    }
  });
  return { samples, problems };
}
