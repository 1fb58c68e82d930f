import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { FileSpanExporter, type SpanRecord } from './file-span-exporter.js';

function readRecords(path: string): SpanRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as SpanRecord);
}

describe('FileSpanExporter', () => {
  it('appends each finished span as one JSON line with its ids, parent, kind, times and status', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'scoregate-spans-')), 'nested', 'spans.jsonl');
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'scoring-service' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: new FileSpanExporter({ path }) })],
    });
    const tracer = provider.getTracer('test');

    const parent = tracer.startSpan('Score', { kind: SpanKind.SERVER });
    const child = tracer.startSpan(
      'onnx.run',
      { kind: SpanKind.INTERNAL, attributes: { 'model.version': 'v7', 'batch.size': 4 } },
      trace.setSpan(ROOT_CONTEXT, parent),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    child.recordException(new Error('tensor shape mismatch'));
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'tensor shape mismatch' });
    child.end();
    parent.end();
    await provider.shutdown();

    const records = readRecords(path);
    expect(records).toHaveLength(2);
    const [childRecord, parentRecord] = records;
    expect(parentRecord).toMatchObject({
      traceId: parent.spanContext().traceId,
      spanId: parent.spanContext().spanId,
      parentSpanId: null,
      name: 'Score',
      kind: 'SERVER',
      serviceName: 'scoring-service',
      status: { code: 'UNSET', message: '' },
    });
    expect(childRecord).toMatchObject({
      traceId: parent.spanContext().traceId,
      spanId: child.spanContext().spanId,
      parentSpanId: parent.spanContext().spanId,
      name: 'onnx.run',
      kind: 'INTERNAL',
      serviceName: 'scoring-service',
      status: { code: 'ERROR', message: 'tensor shape mismatch' },
      attributes: { 'model.version': 'v7', 'batch.size': 4 },
    });
    expect(childRecord!.events[0]).toMatchObject({
      name: 'exception',
      attributes: { 'exception.message': 'tensor shape mismatch' },
    });

    const elapsedNanos =
      BigInt(childRecord!.endTimeUnixNano) - BigInt(childRecord!.startTimeUnixNano);
    expect(Number(elapsedNanos) / 1e6).toBeCloseTo(childRecord!.durationMs, 3);
    expect(childRecord!.durationMs).toBeGreaterThanOrEqual(15);
    const startMs = Number(BigInt(childRecord!.startTimeUnixNano) / 1_000_000n);
    expect(Math.abs(startMs - Date.now())).toBeLessThan(60_000);
  });

  it('appends to what is already in the file, from several exporters', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'scoregate-spans-')), 'spans.jsonl');
    const traceIds: string[] = [];
    for (const service of ['gateway', 'feature-service']) {
      const provider = new TracerProvider({
        spanProcessors: [
          new SimpleSpanProcessor({
            exporter: new FileSpanExporter({ path, serviceName: service }),
          }),
        ],
      });
      const span = provider.getTracer('test').startSpan('work');
      traceIds.push(span.spanContext().traceId);
      span.end();
      await provider.shutdown();
    }

    expect(readRecords(path).map((record) => record.traceId)).toEqual(traceIds);
  });
});
