/**
 * A Responses request as far as Quorum reads it before deciding where it goes. The fields it reads are
 * checked exactly as the translation checks them (so a bad value is the same 400 either way); every
 * other field is left as sent: a request passed through raw reaches an upstream that knows fields this
 * version of Quorum does not, and a translated one is then held to the strict schema.
 */
import { z } from 'zod';
import { ResponseCreateSchema } from '../schema.ts';

const shape = ResponseCreateSchema.shape;

export const ResponsePassSchema = z.looseObject({
  model: shape.model,
  input: shape.input,
  instructions: shape.instructions,
  previous_response_id: shape.previous_response_id,
  store: shape.store,
  stream: shape.stream,
  tools: shape.tools,
  max_output_tokens: shape.max_output_tokens,
  temperature: shape.temperature,
  background: shape.background,
  conversation: shape.conversation,
  quorum: shape.quorum,
});

export type ResponsePass = z.infer<typeof ResponsePassSchema>;
