import { MemoryBudget } from '../../../src/limits/memory-budget.ts';
import { budgetSuite } from './budget-suite.ts';

budgetSuite('memory', async (clock) => {
  const budget = new MemoryBudget({ now: clock.now });
  return { instances: [budget, budget], close: () => budget.close() };
});
