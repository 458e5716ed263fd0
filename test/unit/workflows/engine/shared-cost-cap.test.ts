/**
 * The run's cost cap held on the run's row, as the instances running its steps share it: two caps over
 * one stored run stand for two instances. A call waits while another instance's call holds the room
 * it needs and goes ahead once that one settles for less; one that cannot fit even then fails before it
 * is made, naming what the run has spent by then.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Store } from '../../../../src/store/index.ts';
import { withinCap } from '../../../../src/workflows/cap-call.ts';
import { SharedCostCap } from '../../../../src/workflows/engine/shared-cost-cap.ts';
import { saveWorkflow, tempStore } from './helpers.ts';

let store: Store;
let cleanup: () => Promise<void>;
let runId: string;
beforeEach(async () => {
  ({ store, cleanup } = await tempStore());
  const wf = await saveWorkflow(store, { name: 'capped', steps: { a: { prompt: 'A' } } });
  runId = (await store.workflows.createRun({ workflow_id: wf, inputs: {}, team: 'default', steps: {} })).run
    .id;
});
afterEach(async () => {
  await cleanup();
});

const errors: unknown[] = [];
/** A cap of $0.005 as one instance holds it, counting its attempts to hold. */
function instanceCap() {
  const tries = { n: 0 };
  const rows = {
    holdCost: (...args: Parameters<Store['workflows']['holdCost']>) => {
      tries.n++;
      return store.workflows.holdCost(...args);
    },
    settleCost: (...args: Parameters<Store['workflows']['settleCost']>) =>
      store.workflows.settleCost(...args),
  };
  return Object.assign(new SharedCostCap(rows, runId, 0.005, 0, (err) => errors.push(err)), { tries });
}

/** A call whose worst case is `worstUsd`; it costs `costUsd` once `go` resolves. */
function call(worstUsd: number, costUsd: number, go: Promise<void> = Promise.resolve()) {
  const made: string[] = [];
  const spec = {
    kind: 'llm' as const,
    request: 'req',
    price: () => ({ worstUsd, specs: [], what: 'm' }),
    call: async (_r: string, spent: (usd: number) => void) => {
      made.push('called');
      await go;
      spent(costUsd);
      return 'reply';
    },
  };
  return { spec, made };
}

/** The run row's capped spend and holds. */
async function held() {
  const { rows } = await sql<{ spent: number; held: number }>`
    select cap_spent_nanos as spent, cap_held_nanos as held from runs where id = ${runId}`.execute(store.db);
  return { spentNanos: Number(rows[0]!.spent), heldNanos: Number(rows[0]!.held) };
}

describe('SharedCostCap', () => {
  it("waits for another instance's call to settle, then goes ahead in the room it left", async () => {
    const a = instanceCap();
    const b = instanceCap();
    let finish!: () => void;
    const first = call(0.004, 0.001, new Promise((r) => (finish = r)));
    const running = withinCap(a, new AbortController().signal, first.spec);
    await expect.poll(() => first.made.length).toBe(1);
    expect(await held()).toEqual({ spentNanos: 0, heldNanos: 4_000_000 });

    // b's call fits the cap, but not beside a's hold: it waits rather than being made.
    const second = call(0.004, 0.004);
    const waiting = withinCap(b, new AbortController().signal, second.spec);
    // It looked again, twice, and still found no room.
    await vi.waitFor(() => expect(b.tries.n).toBeGreaterThanOrEqual(3), { timeout: 5000 });
    expect(second.made).toEqual([]);

    finish();
    await expect(running).resolves.toBe('reply');
    await expect(waiting).resolves.toBe('reply');
    expect(await held()).toEqual({ spentNanos: 5_000_000, heldNanos: 0 });
    expect(errors).toEqual([]);
  });

  it('fails a call the cap cannot cover once the others have settled, naming what was spent', async () => {
    const a = instanceCap();
    const b = instanceCap();
    await withinCap(a, new AbortController().signal, call(0.003, 0.003).spec);
    const late = call(0.004, 0.004);
    // b last read the run at $0 spent; its hold on the row is refused and it learns the spend.
    await expect(withinCap(b, new AbortController().signal, late.spec)).rejects.toThrow(
      /^max_cost_usd \$0\.005 cannot cover the next call: the run has spent \$0\.003 and the call to m may cost up to \$0\.004\. Raise max_cost_usd\.$/,
    );
    expect(late.made).toEqual([]);
  });

  it('stops waiting when its call is aborted, and its hold never taken leaves nothing held', async () => {
    const a = instanceCap();
    let finish!: () => void;
    const first = call(0.004, 0, new Promise((r) => (finish = r)));
    const running = withinCap(a, new AbortController().signal, first.spec);
    await expect.poll(() => first.made.length).toBe(1);
    const abort = new AbortController();
    const waiting = withinCap(instanceCap(), abort.signal, call(0.004, 0.004).spec);
    abort.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    finish();
    await running;
    expect(await held()).toEqual({ spentNanos: 0, heldNanos: 0 });
  });
});
