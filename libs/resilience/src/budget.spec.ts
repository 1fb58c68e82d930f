import { describe, expect, it } from 'vitest';
import { Budget } from './budget.js';

describe('Budget', () => {
  it('gives a hop the remaining time minus the reserve and what the rest of the path needs', () => {
    const budget = new Budget(50, 2, 1_000);
    expect(budget.endsAt).toBe(1_050);
    expect(budget.remainingMs(1_010)).toBe(40);
    expect(budget.hopMs(10, 1_010)).toBe(28);
    expect(budget.hopDeadline(10)).toBe(1_038);
  });

  it('says whether an expected latency still fits and never reports negative time', () => {
    const budget = new Budget(20, 2, 0);
    expect(budget.fits(10, 0, 5)).toBe(true);
    expect(budget.fits(14, 0, 5)).toBe(false);
    expect(budget.remainingMs(100)).toBe(0);
    expect(budget.hopMs(0, 100)).toBe(0);
    expect(budget.exhausted(19)).toBe(true);
  });

  it('refuses a budget that is not positive', () => {
    expect(() => new Budget(0)).toThrow(/positive/);
  });
});
