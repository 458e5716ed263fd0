/**
 * The OpenAI embeddings request (POST /v1/embeddings), validated here once: `input` is one text, a list
 * of texts, one list of token ids or a list of them — never empty — plus `dimensions`, `encoding_format`,
 * `user` and Quorum's `quorum` extension (fallbacks, tags, cache). Unknown fields are kept, so an
 * OpenAI-compatible upstream still receives its own options.
 */
import { z } from 'zod';

/** OpenAI's own bound on inputs per request. */
export const MAX_INPUTS = 2048;

const INPUT_SHAPE =
  'input must be a non-empty string, an array of strings, an array of token ids (integers ≥ 0) or an array of such arrays';

const TokenIds = z.array(z.number().int().nonnegative());

const Input = z.union([z.string(), z.array(z.string()), TokenIds, z.array(TokenIds)], {
  error: INPUT_SHAPE,
});

/** Problems a shape check cannot see: emptiness, and how many inputs one request may carry. */
function checkInput(input: z.infer<typeof Input>, ctx: z.RefinementCtx): void {
  const problem = (message: string, index?: number) =>
    ctx.addIssue({ code: 'custom', path: index === undefined ? ['input'] : ['input', index], message });
  if (typeof input === 'string') {
    if (!input) problem('must not be an empty string');
    return;
  }
  if (!input.length) problem('must not be an empty array');
  else if (input.length > MAX_INPUTS) problem(`at most ${MAX_INPUTS} inputs per request`);
  else {
    input.forEach((item, i) => {
      if (typeof item === 'string' ? !item : Array.isArray(item) && !item.length) {
        problem(typeof item === 'string' ? 'must not be an empty string' : 'must not be an empty array', i);
      }
    });
  }
}

export const EmbeddingsRequestSchema = z
  .looseObject({
    model: z.string().min(1),
    input: Input,
    dimensions: z.number().int().positive().optional(),
    encoding_format: z.enum(['float', 'base64']).optional(),
    user: z.string().optional(),
    quorum: z
      .strictObject({
        fallbacks: z.array(z.string()).optional(),
        tags: z.record(z.string(), z.string()).optional(),
        cache: z
          .boolean()
          .optional()
          .describe(
            'false: never answer from, nor store in, the response cache (embeddings are cached by default).',
          ),
      })
      .optional(),
  })
  .superRefine((body, ctx) => checkInput(body.input, ctx))
  // zod's own metadata: the OpenAPI document names the component by this id.
  .meta({ id: 'EmbeddingsRequest' });

export type EmbeddingsRequest = z.infer<typeof EmbeddingsRequestSchema>;
