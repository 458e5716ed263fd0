/** A hand-driven clock for the limits tests (epoch ms). */
export interface TestClock {
  now: () => number;
  set(iso: string): void;
  advance(ms: number): void;
}

export function testClock(iso = '2026-11-22T12:00:00.000Z'): TestClock {
  let t = Date.parse(iso);
  return {
    now: () => t,
    set: (to) => {
      t = Date.parse(to);
    },
    advance: (ms) => {
      t += ms;
    },
  };
}
