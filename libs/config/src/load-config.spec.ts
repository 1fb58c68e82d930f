import { describe, expect, it } from 'vitest';
import { ConfigError, env, loadConfig } from './index.js';

const schema = {
  SVC_PORT: env.port(50051),
  SVC_TIMEOUT_MS: env.millis(250),
  SVC_MODE: env.oneOf(['memory', 'redis'] as const, 'memory'),
  SVC_TLS: env.flag(false),
  SVC_UPSTREAM: env.address('127.0.0.1:50052'),
};

describe('loadConfig', () => {
  it('fills defaults when variables are unset or blank', () => {
    const config = loadConfig('svc', schema, { SVC_PORT: '  ' });
    expect(config).toEqual({
      SVC_PORT: 50051,
      SVC_TIMEOUT_MS: 250,
      SVC_MODE: 'memory',
      SVC_TLS: false,
      SVC_UPSTREAM: '127.0.0.1:50052',
    });
  });

  it('parses and types the values that are set', () => {
    const config = loadConfig('svc', schema, {
      SVC_PORT: '7000',
      SVC_TIMEOUT_MS: '12.5',
      SVC_MODE: 'redis',
      SVC_TLS: 'yes',
      SVC_UPSTREAM: 'dns:///scoring:50053',
    });
    expect(config.SVC_PORT).toBe(7000);
    expect(config.SVC_TIMEOUT_MS).toBe(12.5);
    expect(config.SVC_MODE).toBe('redis');
    expect(config.SVC_TLS).toBe(true);
    expect(config.SVC_UPSTREAM).toBe('dns:///scoring:50053');
  });

  it('names every wrong variable and why in one error', () => {
    let error: unknown;
    try {
      loadConfig('svc', schema, {
        SVC_PORT: '70000',
        SVC_MODE: 'disk',
        SVC_TLS: 'maybe',
        SVC_UPSTREAM: 'nowhere',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.issues.map((i) => i.variable).sort()).toEqual([
      'SVC_MODE',
      'SVC_PORT',
      'SVC_TLS',
      'SVC_UPSTREAM',
    ]);
    expect(configError.message).toContain('SVC_PORT: must be <= 65535 (got "70000")');
    expect(configError.message).toContain('SVC_MODE: must be one of memory, redis (got "disk")');
    expect(configError.message).toContain('4 problems');
  });
});
