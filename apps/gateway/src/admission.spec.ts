import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@scoregate/config';
import { Admission } from './admission.js';
import { gatewayConfig } from './config.js';

describe('admission control resting limit', () => {
  const admissions: Admission[] = [];
  afterEach(() => admissions.splice(0).forEach((admission) => admission.stop()));

  /** The Admission the gateway builds from this environment. */
  const restingLimitWith = (environment: Record<string, string>) => {
    const config = loadConfig('gateway', gatewayConfig, environment);
    const admission = new Admission({
      minimumMs: 2,
      defaultBudgetMs: 100,
      limit: { initialLimit: config.GATEWAY_ADMISSION_RESTING_LIMIT },
    });
    admissions.push(admission);
    return admission.limit.limit;
  };

  it('rests at GATEWAY_ADMISSION_RESTING_LIMIT, 256 calls unless set', () => {
    expect(restingLimitWith({})).toBe(256);
    expect(restingLimitWith({ GATEWAY_ADMISSION_RESTING_LIMIT: '40' })).toBe(40);
  });

  it('rests at the same limit when a caller gives none', () => {
    const admission = new Admission({ minimumMs: 2, defaultBudgetMs: 100 });
    admissions.push(admission);
    expect(admission.limit.limit).toBe(256);
  });
});
