import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@scoregate/config';
import { Admission } from './admission.js';
import { gatewayConfig } from './config.js';

describe('admission control resting limit', () => {
  const admissions: Admission[] = [];
  afterEach(() => admissions.splice(0).forEach((admission) => admission.stop()));

  it('rests at GATEWAY_ADMISSION_RESTING_LIMIT, 256 calls unless set', () => {
    const config = loadConfig('gateway', gatewayConfig, {});
    expect(config.GATEWAY_ADMISSION_RESTING_LIMIT).toBe(256);
    const admission = new Admission({
      minimumMs: 2,
      defaultBudgetMs: 100,
      limit: { initialLimit: config.GATEWAY_ADMISSION_RESTING_LIMIT },
    });
    admissions.push(admission);
    expect(admission.limit.limit).toBe(256);
  });

  it('takes the resting limit the environment sets', () => {
    const config = loadConfig('gateway', gatewayConfig, { GATEWAY_ADMISSION_RESTING_LIMIT: '40' });
    const admission = new Admission({
      minimumMs: 2,
      defaultBudgetMs: 100,
      limit: { initialLimit: config.GATEWAY_ADMISSION_RESTING_LIMIT },
    });
    admissions.push(admission);
    expect(admission.limit.limit).toBe(40);
  });

  it('rests at the same limit when a caller gives none', () => {
    const admission = new Admission({ minimumMs: 2, defaultBudgetMs: 100 });
    admissions.push(admission);
    expect(admission.limit.limit).toBe(256);
  });
});
