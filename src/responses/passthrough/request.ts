/**
 * A Responses request passed through raw, as its upstream receives it: the client's body with Quorum's
 * `quorum` field taken out, `store: false` (Quorum keeps the response itself, so the upstream keeps
 * nothing), and for a follow-up `previous_response_id` replaced by the conversation's items ahead of the
 * request's own `input` — every other byte as sent. (`model` is set per deployment by the protocol.)
 * Also what Quorum stores of it and what its budget hold is priced on.
 */
import type { CostBounds } from '../../../routing/route-types.ts';
import { memberText, removeMember, setMember } from '../../gateway/index.ts';
import { refuseHosted } from '../unsupported.ts';
import { replayed, storedInput } from './items.ts';
import type { ResponsePass } from './schema.ts';
import { passBounds } from './tokens.ts';

export interface PassPlan {
  /** The body text for every deployment, but its `model`. */
  body: string;
  /** The request's own input items, as stored and listed. */
  input: unknown[];
  bounds: CostBounds;
}

/** The request's own `input` text as items of a list: a string is one user message (its bytes kept). */
function ownItems(text: string | undefined): string[] {
  if (text === undefined) return [];
  if (text.startsWith('"')) return [`{"role":"user","content":${text}}`];
  const inner = text.trim().slice(1, -1).trim();
  return inner ? [inner] : [];
}

/**
 * `text`: the body as received (valid JSON, `body` its parse); `history`: the conversation's items,
 * oldest first (empty without `previous_response_id`). Throws a 400 for what no upstream state may serve.
 */
export function planPassthrough(text: string, body: ResponsePass, history: readonly unknown[]): PassPlan {
  refuseHosted(body);
  let upstream = body.quorum !== undefined ? removeMember(text, 'quorum') : text;
  const earlier = replayed(history);
  if (body.previous_response_id) {
    const items = [
      ...earlier.map((item) => JSON.stringify(item)),
      ...ownItems(memberText(upstream, 'input')),
    ];
    upstream = removeMember(setMember(upstream, 'input', `[${items.join(',')}]`), 'previous_response_id');
  }
  upstream = setMember(upstream, 'store', 'false');
  const format = (body.text as { format?: unknown } | null | undefined)?.format;
  return {
    body: upstream,
    input: storedInput(body.input),
    bounds: passBounds({
      instructions: body.instructions,
      items: [
        ...earlier,
        ...(typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : (body.input ?? [])),
      ],
      tools: body.tools,
      format,
      max_output_tokens: body.max_output_tokens,
    }),
  };
}
