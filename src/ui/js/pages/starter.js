// The definition the New workflow form starts from: it runs on the built-in demo, runs two steps in
// parallel and stops at an approval, so a first visit shows every part of the Workflows pages.
export const STARTER = `name: hometown-distance
description: Two look-ups in parallel, a third step combines them, a person approves.
inputs:
  a: { type: string, description: A person, default: Ada Lovelace }
  b: { type: string, default: Alan Turing }
steps:
  town_a: { prompt: "Home town of {{ inputs.a }}? Reply with the town only." }
  town_b: { prompt: "Home town of {{ inputs.b }}? Reply with the town only." }
  distance:
    needs: [town_a, town_b]
    prompt: "Distance in km between {{ steps.town_a.output }} and {{ steps.town_b.output }}?"
  check: { type: approval, needs: [distance], description: Is the distance plausible? }
outputs:
  km: "{{ steps.distance.output }}"
`;
