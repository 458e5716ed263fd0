/**
 * The one place a stopping process lets go of its workflow steps. A job engine shared by several
 * instances takes back the steps this one holds (its `drain()`, else `close()`), so another instance
 * runs them now rather than after this one's locks expire. The in-process engine has neither: its
 * unfinished runs stay in the store and the next `quorum serve` resumes them (a step in flight runs
 * again, its first attempt's spend kept in the ledger), so there is nothing to hand back here.
 */
import type { Engine } from '../workflows/engine/index.ts';

/** What a stopping process may call on the engine, when the engine has it. */
interface Releasing {
  drain?: () => Promise<void>;
  close?: () => Promise<void>;
}

export async function handBackSteps(engine: Engine): Promise<void> {
  const e = engine as Engine & Releasing;
  if (typeof e.drain === 'function') await e.drain();
  else if (typeof e.close === 'function') await e.close();
}
