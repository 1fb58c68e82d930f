import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import {
  FeatureService,
  GRPCInferenceService,
  RegistryService,
  RetrainService,
  ScoreRequestSchema,
  ScoreService,
} from './index.js';

describe('generated contracts', () => {
  it('expose the five services with the RPCs the services implement', () => {
    expect(ScoreService.typeName).toBe('scoregate.gateway.v1.ScoreService');
    expect(ScoreService.methods.map((m) => m.name)).toEqual(['Score', 'ScoreBatch']);
    expect(FeatureService.methods.map((m) => m.name)).toEqual([
      'GetFeatures',
      'WriteFeatures',
      'ListFeatureViews',
    ]);
    expect(GRPCInferenceService.typeName).toBe('inference.GRPCInferenceService');
    expect(GRPCInferenceService.methods.map((m) => m.name)).toEqual([
      'ServerLive',
      'ServerReady',
      'ModelReady',
      'ServerMetadata',
      'ModelMetadata',
      'ModelInfer',
    ]);
    expect(RegistryService.method.watch.methodKind).toBe('server_streaming');
    expect(RegistryService.method.uploadModelVersion.methodKind).toBe('client_streaming');
    expect(RetrainService.methods.map((m) => m.name)).toEqual([
      'TriggerRetrain',
      'GetRun',
      'ListRuns',
      'PutPolicy',
      'ListPolicies',
      'RecordOutcomes',
      'GetJoinStatus',
    ]);
  });

  it('round-trip a Score request through the binary wire format', () => {
    const request = create(ScoreRequestSchema, {
      scorer: 'truck-roll-priority',
      entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
      requestFeatures: {
        'customer_stats:tickets_30d': { kind: { case: 'int64Value', value: 3n } },
      },
    });
    const decoded = fromBinary(ScoreRequestSchema, toBinary(ScoreRequestSchema, request));
    expect(decoded).toEqual(request);
  });
});
