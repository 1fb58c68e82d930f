import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { setting, sleep } from './support.js';

const ZIPKIN_URL = setting('ZIPKIN_URL', 'http://127.0.0.1:9411').replace(/\/+$/, '');

interface ZipkinSpan {
  traceId: string;
  id: string;
  name?: string;
  localEndpoint?: { serviceName?: string };
}

describe(`zipkin at ${ZIPKIN_URL}`, () => {
  it('accepts a span on /api/v2/spans and serves it back from /api/v2/trace/{id}', async () => {
    const traceId = randomBytes(8).toString('hex');
    const spanId = randomBytes(8).toString('hex');
    const span = {
      traceId,
      id: spanId,
      name: 'infra-smoke',
      kind: 'SERVER',
      timestamp: Date.now() * 1000,
      duration: 1_500,
      localEndpoint: { serviceName: 'scoregate-infra-smoke' },
      tags: { 'scoregate.test': 'infra' },
    };

    const post = await fetch(`${ZIPKIN_URL}/api/v2/spans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([span]),
      signal: AbortSignal.timeout(10_000),
    });
    expect(post.status).toBe(202);

    // Ingestion is asynchronous: poll (bounded) until the trace is readable.
    const deadline = Date.now() + 30_000;
    let lastStatus = 0;
    let spans: ZipkinSpan[] = [];
    while (Date.now() < deadline) {
      const res = await fetch(`${ZIPKIN_URL}/api/v2/trace/${traceId}`, {
        signal: AbortSignal.timeout(5_000),
      });
      lastStatus = res.status;
      if (res.ok) {
        spans = (await res.json()) as ZipkinSpan[];
        if (spans.length > 0) break;
      } else {
        await res.body?.cancel();
      }
      await sleep(250);
    }
    expect(lastStatus, `GET /api/v2/trace/${traceId} never returned the span`).toBe(200);
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({
      traceId,
      id: spanId,
      name: 'infra-smoke',
      localEndpoint: { serviceName: 'scoregate-infra-smoke' },
    });
  });
});
