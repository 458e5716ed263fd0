/**
 * Request fields of the Responses API that have no translation to a chat call: refused when set to
 * anything but their default, each with what to do instead. Nothing a client asks for is dropped
 * without a word.
 */
import { invalid } from './check.ts';
import type { ResponseCreate } from './schema.ts';

const set = (value: unknown) =>
  value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);

const CONVERSATION =
  'OpenAI-hosted conversations are not available through Quorum; continue a conversation with previous_response_id';

/**
 * What no path can serve, a request passed through raw included: state kept upstream. Quorum keeps
 * each response and conversation itself, and answers while the request is open.
 */
export function refuseHosted(body: { background?: boolean | null; conversation?: unknown }): void {
  if (set(body.conversation)) throw invalid('conversation', CONVERSATION);
  if (body.background === true) {
    throw invalid(
      'background',
      'background responses are not available through Quorum: it answers while the request is open (stream: true shows the answer as it is written)',
    );
  }
}

/** Fields refused whenever they are set, and why. */
const NEVER: Partial<Record<keyof ResponseCreate, string>> = {
  prompt: 'prompt templates live in an OpenAI project, which Quorum cannot read; send instructions and input',
  context_management: 'server-side compaction is not available through Quorum',
  moderation: 'moderated responses are not available through Quorum',
  access_programs: 'OpenAI access programs are not available through Quorum',
  prompt_cache_options: 'prompt cache options are not available through Quorum (prompt_cache_key is)',
  image: 'request-level image options are not available through Quorum',
};

export function refuseUntranslatable(body: ResponseCreate): void {
  refuseHosted(body);
  for (const [field, why] of Object.entries(NEVER)) {
    if (set(body[field as keyof ResponseCreate])) throw invalid(field, why);
  }
  if (body.truncation === 'auto') {
    throw invalid(
      'truncation',
      '`auto` is not available through Quorum; a prompt too long for the model is a 400',
    );
  }
  if (body.top_logprobs) throw invalid('top_logprobs', 'log probabilities are not available through Quorum');
  const include = body.include ?? [];
  const logprobs = include.indexOf('message.output_text.logprobs');
  if (logprobs >= 0) {
    throw invalid(`include[${logprobs}]`, 'log probabilities are not available through Quorum');
  }
}
