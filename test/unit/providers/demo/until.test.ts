/**
 * The demo as the workflow engine's `until` judge, through the real engine: drafts improve with each
 * critique, so a loop reaches min_score 8 on its third iteration, the same way every run.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../../src/chat/index.ts';
import { demoAnswer } from '../../../../src/providers/demo/answer.ts';
import type { Store } from '../../../../src/store/index.ts';
import { parseJudgeReply } from '../../../../src/workflows/engine/parse-reply.ts';
import {
  FakeRunner,
  makeEngine,
  saveWorkflow,
  storedEvents,
  tempStore,
} from '../../workflows/engine/helpers.ts';

let store: Store;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ store, cleanup } = await tempStore());
});
afterEach(async () => {
  await cleanup();
});

/** Every step call answered by the demo model it names (demo-fast for auto), JSON when asked. */
const demoRunner = () =>
  new FakeRunner((req) => {
    const model = req.model?.startsWith('demo') ? req.model : 'demo-fast';
    const request: ChatRequest = {
      model,
      messages: req.messages,
      ...(req.json && { response_format: { type: 'json_object' as const } }),
    };
    return demoAnswer(model, request).content ?? '';
  });

describe('the demo as an until judge', () => {
  it('scores 5, 7, then 8.5: a min_score of 8 is reached on the third iteration', async () => {
    const runner = demoRunner();
    const { engine } = makeEngine(store, runner);
    const id = await saveWorkflow(store, {
      name: 'essay',
      inputs: { topic: { type: 'string' } },
      steps: {
        draft: {
          prompt: 'Write a short essay on {{ inputs.topic }}. Feedback to address: {{ feedback }}',
          until: { judge: 'demo-smart', criteria: 'Clear and specific.', min_score: 8, max_iterations: 4 },
        },
      },
      outputs: { essay: '{{ steps.draft.output }}' },
    });
    const started = await engine.start(id, { topic: 'Why tests matter' }, { team: 't' });
    const run = await engine.wait(started.id);
    expect(run.status).toBe('succeeded');
    const iterations = (await storedEvents(store, started.id)).filter((e) => e.type === 'step.iteration');
    expect(iterations.map((e) => (e.data as { score: number }).score)).toEqual([5, 7, 8.5]);
    expect((iterations[0]!.data as { critique: string }).critique).toMatch(/concrete example/);
    // Each draft took in the critique before it.
    const prompts = runner.of('draft').map(FakeRunner.prompt);
    expect(prompts[1]).toMatch(/concrete example/);
    expect(run.outputs).toEqual({ essay: expect.stringMatching(/^Revision 2: says who it is for/m) });
    // The critique's "5 out of 10" in the prompt is not taken for a sum to work out.
    expect((run.outputs as { essay: string }).essay).toMatch(/^This is demo-fast/);
    // Every judge reply goes through the engine's parser with a score.
    for (const call of runner.of('draft', 'judge')) {
      const text = demoAnswer('demo-smart', { model: 'demo-smart', messages: call.request.messages });
      expect(parseJudgeReply(text.content!)).not.toBeNull();
    }
  });
});
