/**
 * The models a workflow definition names, checked when it is stored: every step's model, an ensemble's
 * members and judge, a review's reviewers and author, an `until` judge — each through the same
 * authorization decision a request naming it would meet, against the storing team's allow-list. So a
 * definition that could only fail at run time (or reach a model the team may not use) is refused up
 * front, one problem per field.
 */
import { type ChatRequest, memberModel } from '../chat/index.ts';
import { GatewayError } from '../errors/index.ts';
import { authorizeChat, authorizeReview, type Caller, type Gateway } from '../gateway/index.ts';
import { ensembleFields, type Problem, type WorkflowDefinition } from './definition/index.ts';

/** `auto` and `auto:<policy>` are the router's choice at run time, made within the allow-list then. */
const isAuto = (model: string) => model === 'auto' || model.startsWith('auto:');

const probe = (model: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model,
  messages: [{ role: 'user', content: 'x' }],
  ...extra,
});

/** What refuses a step's models: the authorization error's message, at the field's path. */
function attempt(problems: Problem[], path: string, check: () => void): void {
  try {
    check();
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    problems.push({ path, message: err.message });
  }
}

export function stepModelProblems(gw: Gateway, caller: Caller, definition: WorkflowDefinition): Problem[] {
  const problems: Problem[] = [];
  for (const [name, step] of Object.entries(definition.steps)) {
    const at = `steps.${name}`;
    if (step.type === 'ensemble') {
      // Built as the runner builds it, so the members and judge are judged as they will be called.
      const ensemble = { strategy: step.strategy ?? 'consensus', ...ensembleFields(step) };
      const request = probe(memberModel(step.models?.[0] ?? 'auto'), {
        quorum: { ensemble },
      } as Partial<ChatRequest>);
      attempt(problems, `${at}.models`, () => authorizeChat(gw, caller, request));
    } else if (step.type === 'review') {
      const reviewers = step.reviewers ?? [];
      const options = { reviewers, ...(step.author && { author: step.author }) };
      attempt(problems, `${at}.reviewers`, () => authorizeReview(gw, caller, options));
    } else if (step.type !== 'approval') {
      const model = step.model ?? 'auto';
      if (!isAuto(model)) attempt(problems, `${at}.model`, () => authorizeChat(gw, caller, probe(model)));
    }
    const judge = step.until?.judge;
    if (judge && !isAuto(judge)) {
      attempt(problems, `${at}.until.judge`, () => authorizeChat(gw, caller, probe(judge)));
    }
  }
  return problems;
}
