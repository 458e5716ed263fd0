/**
 * The OpenAI Responses create request (`POST /v1/responses`), as the `openai` SDK sends it. The top
 * level is strict: a field Quorum does not know is refused, never ignored. `input` items, `tools` and
 * `tool_choice` are checked item by item in `input.ts` and `tools.ts`, whose refusals name the
 * unsupported type (a built-in tool, an item kind chat cannot carry) rather than a generic union error.
 */
import { z } from 'zod';
import { QuorumOptionsSchema } from '../chat/index.ts';

/** An object whose `type` (and the rest) is checked by the translation, with a precise message. */
const Typed = z.record(z.string(), z.unknown());
/** Items and tools are checked one by one by the translation, which names the one at fault. */
const Items = z.array(z.unknown());

const JsonSchemaFormat = z.object({
  type: z.literal('json_schema'),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'format names are 1-64 letters, digits, _ or -'),
  schema: z.record(z.string(), z.unknown()),
  description: z.string().optional(),
  strict: z.boolean().nullish(),
});

export const TextFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  JsonSchemaFormat,
]);

const TextConfig = z.object({
  format: TextFormatSchema.optional(),
  verbosity: z.enum(['low', 'medium', 'high']).nullish(),
});

const Reasoning = z.object({
  effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish(),
  summary: z.enum(['auto', 'concise', 'detailed']).nullish(),
  generate_summary: z.enum(['auto', 'concise', 'detailed']).nullish(),
});

/** Up to 16 pairs; keys of at most 64 characters, string values of at most 512 (as OpenAI). */
const Metadata = z
  .record(z.string().max(64, 'metadata keys are at most 64 characters'), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, 'metadata holds at most 16 pairs');

export const ResponseCreateSchema = z
  .strictObject({
    model: z.string().min(1),
    input: z.union([z.string(), Items]).optional(),
    instructions: z.string().nullish(),
    previous_response_id: z.string().min(1).nullish(),
    store: z.boolean().nullish(),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_obfuscation: z.boolean().optional() }).nullish(),
    tools: Items.optional(),
    tool_choice: z.union([z.string(), Typed]).nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    text: TextConfig.nullish(),
    reasoning: Reasoning.nullish(),
    max_output_tokens: z.number().int().positive().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    metadata: Metadata.nullish(),
    user: z.string().max(256).optional(),
    include: z.array(z.string()).nullish(),
    service_tier: z.string().nullish(),
    prompt_cache_key: z.string().nullish(),
    prompt_cache_retention: z.string().nullish(),
    safety_identifier: z.string().nullish(),
    max_tool_calls: z.number().int().positive().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    truncation: z.enum(['auto', 'disabled']).nullish(),
    background: z.boolean().nullish(),
    // Known to the API but not translatable: refused when set (see unsupported.ts).
    conversation: z.unknown().optional(),
    prompt: z.unknown().optional(),
    context_management: z.unknown().optional(),
    moderation: z.unknown().optional(),
    access_programs: z.unknown().optional(),
    prompt_cache_options: z.unknown().optional(),
    image: z.unknown().optional(),
    quorum: QuorumOptionsSchema.optional(),
  })
  // zod's own metadata: the OpenAPI document names the component by this id.
  .meta({ id: 'ResponseCreateRequest' });

export type ResponseCreate = z.infer<typeof ResponseCreateSchema>;
export type TextFormat = z.infer<typeof TextFormatSchema>;
