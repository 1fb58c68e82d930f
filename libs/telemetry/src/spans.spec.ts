import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { currentTraceId, withSpan } from './spans.js';
import { installInProcessTracing } from './testing/in-process-tracing.js';
import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace';

describe('withSpan', () => {
  let exporter: InMemorySpanExporter;
  beforeAll(() => {
    exporter = installInProcessTracing();
  });
  beforeEach(() => exporter.reset());

  it('runs the stage in an internal child span of the active span and returns its value', () => {
    const parent = trace.getTracer('test').startActiveSpan('request', (span) => {
      const value = withSpan('feature-lookup', { 'feature.count': 3 }, () => currentTraceId());
      expect(value).toBe(span.spanContext().traceId);
      span.end();
      return span.spanContext();
    });

    const stage = exporter.getFinishedSpans().find((span) => span.name === 'feature-lookup');
    expect(stage).toBeDefined();
    expect(stage?.kind).toBe(SpanKind.INTERNAL);
    expect(stage?.spanContext().traceId).toBe(parent.traceId);
    expect(stage?.parentSpanContext?.spanId).toBe(parent.spanId);
    expect(stage?.attributes).toEqual({ 'feature.count': 3 });
    expect(stage?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('ends the span only when the returned promise settles', async () => {
    const value = await withSpan('model-call', {}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return 42;
    });

    expect(value).toBe(42);
    const [stage] = exporter.getFinishedSpans();
    const durationMs = stage!.duration[0] * 1e3 + stage!.duration[1] / 1e6;
    expect(durationMs).toBeGreaterThanOrEqual(25);
  });

  it('records a thrown error, sets status ERROR and rethrows', () => {
    expect(() =>
      withSpan('decode', {}, () => {
        throw new Error('bad tensor');
      }),
    ).toThrow('bad tensor');

    const [stage] = exporter.getFinishedSpans();
    expect(stage?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad tensor' });
    expect(stage?.events.map((event) => event.name)).toEqual(['exception']);
    expect(stage?.events[0]?.attributes?.['exception.message']).toBe('bad tensor');
  });

  it('records a rejection, sets status ERROR and rejects with the same error', async () => {
    const failure = new Error('deadline exceeded');
    await expect(
      withSpan('remote-call', {}, async () => {
        await Promise.resolve();
        throw failure;
      }),
    ).rejects.toBe(failure);

    const [stage] = exporter.getFinishedSpans();
    expect(stage?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'deadline exceeded' });
  });

  it('keeps a status the stage set itself', () => {
    withSpan('fallback', {}, (span) =>
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'degraded' }),
    );

    expect(exporter.getFinishedSpans()[0]?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'degraded',
    });
  });
});

describe('currentTraceId', () => {
  beforeAll(() => {
    installInProcessTracing();
  });

  it('is empty outside any span', () => {
    expect(currentTraceId()).toBe('');
  });

  it('is the 32-hex trace id of the active span', () => {
    trace.getTracer('test').startActiveSpan('request', (span) => {
      expect(currentTraceId()).toBe(span.spanContext().traceId);
      expect(currentTraceId()).toMatch(/^[0-9a-f]{32}$/);
      span.end();
    });
  });
});
