/** Whose usage a caller may read: the operator every team's, a team key only its own. */

import { GatewayError } from '../../../errors/index.ts';
import type { Caller } from '../../../gateway/index.ts';

/**
 * The team a report is limited to: the operator's filter (or none, for every team); a team key's own
 * team. A team key naming another team gets 404, as another team's workflows and runs do, and no data.
 */
export function teamScope(caller: Caller, requested: string | undefined): string | undefined {
  if (caller.operator) return requested;
  if (requested !== undefined && requested !== caller.team) {
    throw new GatewayError(
      'not_found',
      `team: no team "${requested}" is visible to this key (it reads its own team only).`,
      {
        param: 'team',
      },
    );
  }
  return caller.team;
}
