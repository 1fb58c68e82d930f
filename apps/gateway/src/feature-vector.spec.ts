import { create } from '@bufbuild/protobuf';
import {
  FeatureInputSchema,
  FeatureResultSchema,
  FeatureStatus,
  FeatureValueSchema,
  type FeatureResult,
} from '@scoregate/contracts';
import { describe, expect, it } from 'vitest';
import { effectiveBudgetMs } from './budget.js';
import { buildFeatureVector } from './feature-vector.js';

const double = (value: number) =>
  create(FeatureValueSchema, { kind: { case: 'doubleValue', value } });
const int = (value: bigint) => create(FeatureValueSchema, { kind: { case: 'int64Value', value } });
const stored = (
  ref: string,
  status: FeatureStatus,
  value?: ReturnType<typeof double>,
): [string, FeatureResult] => [
  ref,
  create(FeatureResultSchema, { ref, status, ...(value ? { value } : {}) }),
];
const contract = [
  create(FeatureInputSchema, { ref: 'v:a', required: true }),
  create(FeatureInputSchema, { ref: 'v:b', required: true }),
  create(FeatureInputSchema, { ref: 'v:c', required: false, defaultValue: double(-1) }),
];

describe('buildFeatureVector', () => {
  it('puts values in contract order, converting int64 and taking defaults for optional features', () => {
    const vector = buildFeatureVector(
      contract,
      new Map([
        stored('v:b', FeatureStatus.OK, double(2.5)),
        stored('v:a', FeatureStatus.OK, int(7n)),
      ]),
      {},
    );
    expect(Array.from(vector.values)).toEqual([7, 2.5, -1]);
    expect(vector.missing).toEqual([]);
    expect(vector.stale).toEqual([]);
  });

  it('names required features that are missing or stale', () => {
    const vector = buildFeatureVector(
      contract,
      new Map([
        stored('v:a', FeatureStatus.MISSING),
        stored('v:b', FeatureStatus.STALE, double(1)),
      ]),
      {},
    );
    expect(vector.missing).toEqual(['v:a']);
    expect(vector.stale).toEqual(['v:b']);
  });

  it('lets request-time features, by ref or bare name, win over stored ones', () => {
    const vector = buildFeatureVector(
      contract,
      new Map([stored('v:a', FeatureStatus.OK, double(1))]),
      {
        'v:a': double(10),
        b: double(20),
      },
    );
    expect(Array.from(vector.values)).toEqual([10, 20, -1]);
    expect(vector.missing).toEqual([]);
  });
});

describe('buildFeatureVector, non-finite values', () => {
  const optional = [
    create(FeatureInputSchema, { ref: 'v:a', required: true }),
    create(FeatureInputSchema, { ref: 'v:b', required: false }),
  ];

  it('counts a stored NaN as missing for a model that accepts finite values only', () => {
    const vector = buildFeatureVector(
      contract,
      new Map([
        stored('v:a', FeatureStatus.OK, double(Number.NaN)),
        stored('v:b', FeatureStatus.OK, double(1)),
      ]),
      {},
    );
    expect(vector.missing).toEqual(['v:a']);
  });

  it('counts a double beyond the FP32 range (infinite in the tensor) as missing, from the request or the store', () => {
    const vector = buildFeatureVector(
      contract,
      new Map([stored('v:b', FeatureStatus.OK, double(-1e39))]),
      { 'v:a': double(1e39) },
    );
    expect(vector.missing).toEqual(['v:a', 'v:b']);
  });

  it('falls back to the default of an optional feature whose value is not finite', () => {
    const vector = buildFeatureVector(
      contract,
      new Map([
        stored('v:a', FeatureStatus.OK, double(1)),
        stored('v:b', FeatureStatus.OK, double(2)),
        stored('v:c', FeatureStatus.OK, double(Number.NaN)),
      ]),
      {},
    );
    expect(Array.from(vector.values)).toEqual([1, 2, -1]);
    expect(vector.missing).toEqual([]);
  });

  it('counts an optional feature without value nor default as missing for a finite-only model', () => {
    const vector = buildFeatureVector(
      optional,
      new Map([stored('v:a', FeatureStatus.OK, double(1))]),
      {},
    );
    expect(vector.missing).toEqual(['v:b']);
  });

  it('sends NaN for it, and passes stored non-finite values through, to a model that accepts them', () => {
    const vector = buildFeatureVector(
      optional,
      new Map([stored('v:a', FeatureStatus.OK, double(Number.POSITIVE_INFINITY))]),
      {},
      { acceptsNonFinite: true },
    );
    expect(Array.from(vector.values)).toEqual([Infinity, Number.NaN]);
    expect(vector.missing).toEqual([]);
    const stale = buildFeatureVector(
      optional,
      new Map([
        stored('v:a', FeatureStatus.OK, double(3)),
        stored('v:b', FeatureStatus.STALE, double(4)),
      ]),
      {},
      { acceptsNonFinite: true },
    );
    expect(Array.from(stale.values)).toEqual([3, Number.NaN]);
    expect(stale.stale).toEqual([]);
  });
});

describe('effectiveBudgetMs', () => {
  it('is the smallest of client deadline, request budget and scorer budget', () => {
    expect(
      effectiveBudgetMs({
        clientRemainingMs: 80,
        requestBudgetMs: 30,
        scorerBudgetMs: 50,
        defaultBudgetMs: 100,
      }),
    ).toBe(30);
    expect(
      effectiveBudgetMs({
        clientRemainingMs: 20,
        requestBudgetMs: 30,
        scorerBudgetMs: 50,
        defaultBudgetMs: 100,
      }),
    ).toBe(20);
    expect(
      effectiveBudgetMs({
        clientRemainingMs: Infinity,
        requestBudgetMs: undefined,
        scorerBudgetMs: 50,
        defaultBudgetMs: 100,
      }),
    ).toBe(50);
  });

  it('falls back to the gateway default when nobody sets a budget', () => {
    expect(
      effectiveBudgetMs({
        clientRemainingMs: Infinity,
        requestBudgetMs: undefined,
        scorerBudgetMs: undefined,
        defaultBudgetMs: 100,
      }),
    ).toBe(100);
  });
});
