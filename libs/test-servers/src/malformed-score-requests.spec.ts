import { describe, expect, it } from 'vitest';
import { fromBinary } from '@bufbuild/protobuf';
import { ScoreRequestSchema } from '@scoregate/contracts';
import { createMalformedScoreRequests, type MalformedKind } from './malformed-score-requests.js';

const take = (seed: number, n: number) => {
  const next = createMalformedScoreRequests(seed);
  return Array.from({ length: n }, () => next());
};

describe('createMalformedScoreRequests', () => {
  it('gives the same requests for the same seed, and others for another seed', () => {
    const hex = (seed: number) => take(seed, 200).map((r) => r.bytes.toString('hex'));
    expect(hex(1)).toEqual(hex(1));
    expect(hex(2)).not.toEqual(hex(1));
  });

  it('mixes random bytes, truncations and bad fields, each about as often as it says', () => {
    const counts: Record<MalformedKind, number> = {
      'random-bytes': 0,
      truncated: 0,
      'bad-field': 0,
    };
    for (const request of take(3, 10_000)) counts[request.kind]++;
    expect(counts['random-bytes'] / 10_000).toBeCloseTo(0.4, 1);
    expect(counts.truncated / 10_000).toBeCloseTo(0.3, 1);
    expect(counts['bad-field'] / 10_000).toBeCloseTo(0.3, 1);
  });

  it('encodes bad fields as a ScoreRequest that decodes, so the gateway validates them', () => {
    const badFields = take(4, 2_000).filter((r) => r.kind === 'bad-field');
    const decoded = badFields.map((r) => fromBinary(ScoreRequestSchema, r.bytes));
    expect(decoded.length).toBeGreaterThan(400);
    // Every one differs from the valid request in some field the contract checks.
    const scorers = new Set(decoded.map((r) => r.scorer));
    expect(scorers.size).toBeGreaterThan(50);
  });
});
