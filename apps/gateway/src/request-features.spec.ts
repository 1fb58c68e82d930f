import { create } from '@bufbuild/protobuf';
import { ScorerSchema, type FeatureValue } from '@scoregate/contracts';
import { Code, RpcError } from '@scoregate/rpc';
import { describe, expect, it } from 'vitest';
import { checkRequestFeaturesUsed, validateRequestFeatures } from './request-features.js';
import type { Route } from './route-resolver.js';
import { chainModel } from './testing/score-test-bed.test.js';

const double = (value: number): FeatureValue =>
  ({ kind: { case: 'doubleValue', value } }) as FeatureValue;

function refusal(run: () => void): RpcError {
  try {
    run();
  } catch (error) {
    return RpcError.from(error);
  }
  throw new Error('accepted');
}

const route: Route = {
  scorer: create(ScorerSchema, { name: 'truck' }),
  chain: [chainModel('gbt', ['stats:snr', 'stats:errors']), chainModel('logreg', ['stats:snr'])],
  budgetMs: undefined,
};

describe('validateRequestFeatures', () => {
  it.each([
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
  ])('refuses a double that is %s, naming the field', (value, shown) => {
    const error = refusal(() =>
      validateRequestFeatures({ 'stats:snr': double(value) }, 'request_features'),
    );
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.message).toBe(
      `request_features["stats:snr"].double_value: must be finite, got ${shown}`,
    );
  });

  it.each(['Bad Ref!!', 'a:b:c', ':snr', 'stats:', ''])('refuses the key %j', (key) => {
    const error = refusal(() =>
      validateRequestFeatures({ [key]: double(1) }, 'items[2].request_features'),
    );
    expect(error.message).toBe(
      `items[2].request_features["${key}"]: is not a feature ref (\`view:feature\`) nor a feature name`,
    );
  });

  it('accepts finite values by ref or by bare name', () => {
    expect(() =>
      validateRequestFeatures({ 'stats:snr': double(-3.5), errors: double(0) }, 'request_features'),
    ).not.toThrow();
  });
});

describe('checkRequestFeaturesUsed', () => {
  it('refuses a feature no model of the scorer reads, naming it and the inputs', () => {
    const error = refusal(() =>
      checkRequestFeaturesUsed(route, { x: double(1) }, 'request_features'),
    );
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.message).toBe(
      'request_features["x"]: is not an input of any model of scorer "truck" (its inputs: stats:errors, stats:snr)',
    );
  });

  it('accepts a ref or a bare name of any model in the chain, canary or shadow', () => {
    const withShadow = { ...route, shadow: { model: chainModel('shadow', ['other:age']) } };
    expect(() =>
      checkRequestFeaturesUsed(
        withShadow,
        { 'stats:errors': double(1), snr: double(2), age: double(3) },
        'request_features',
      ),
    ).not.toThrow();
  });

  it('checks nothing while no model of the scorer is known', () => {
    expect(() =>
      checkRequestFeaturesUsed({ ...route, chain: [] }, { x: double(1) }, 'request_features'),
    ).not.toThrow();
  });
});
