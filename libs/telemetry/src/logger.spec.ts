import { trace } from '@opentelemetry/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { installInProcessTracing } from './testing/in-process-tracing.js';

function capture(): {
  lines: Record<string, unknown>[];
  destination: { write(chunk: string): void };
} {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    destination: {
      write: (chunk) => void lines.push(JSON.parse(chunk) as Record<string, unknown>),
    },
  };
}

describe('createLogger', () => {
  beforeAll(() => {
    installInProcessTracing();
  });

  it('stamps each line with the trace and span id of the active span', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'gateway', destination });

    const ids = trace.getTracer('test').startActiveSpan('request', (span) => {
      log.info({ model: 'fraud' }, 'scored');
      span.end();
      return span.spanContext();
    });

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      service: 'gateway',
      msg: 'scored',
      model: 'fraud',
      level: 30,
      trace_id: ids.traceId,
      span_id: ids.spanId,
    });
    expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('follows the innermost span, across awaits', async () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'gateway', destination });
    const tracer = trace.getTracer('test');

    const inner = await tracer.startActiveSpan('outer', async (outer) => {
      const innerIds = await tracer.startActiveSpan('inner', async (span) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.info('inside');
        span.end();
        return span.spanContext();
      });
      outer.end();
      return innerIds;
    });

    expect(lines[0]).toMatchObject({ trace_id: inner.traceId, span_id: inner.spanId });
  });

  it('leaves the ids out when no span is active', () => {
    const { lines, destination } = capture();
    createLogger({ service: 'gateway', destination }).info('idle');

    expect(lines[0]).toMatchObject({ service: 'gateway', msg: 'idle' });
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[0]).not.toHaveProperty('span_id');
  });

  it('drops lines below the level given', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'gateway', level: 'warn', destination });
    log.info('dropped');
    log.warn('kept');

    expect(lines.map((line) => line['msg'])).toEqual(['kept']);
  });
});
