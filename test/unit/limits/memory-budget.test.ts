import { MemoryBudget } from '../../../src/limits/memory-budget.ts';
import { budgetSuite } from './budget-suite.ts';
import { scopeSuite } from './scope-suite.ts';

budgetSuite('memory', async (clock) => {
  const budget = new MemoryBudget({ now: clock.now });
  return { instances: [budget, budget], close: () => budget.close() };
});

scopeSuite('memory', async (clock) => {
  const budget = new MemoryBudget({ now: clock.now });
  return { instances: [budget, budget], close: () => budget.close() };
});
