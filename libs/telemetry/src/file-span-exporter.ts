import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Attributes, type HrTime, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

/** One finished span, as one line of the spans file. */
export interface SpanRecord {
  readonly traceId: string;
  readonly spanId: string;
  /** Null for a root span. */
  readonly parentSpanId: string | null;
  readonly name: string;
  /** `INTERNAL`, `SERVER`, `CLIENT`, `PRODUCER` or `CONSUMER`. */
  readonly kind: string;
  readonly serviceName: string;
  /** Nanoseconds since the epoch, as a decimal string (too large for a JSON number). */
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly durationMs: number;
  /** Code `UNSET`, `OK` or `ERROR`. */
  readonly status: { readonly code: string; readonly message: string };
  readonly attributes: Attributes;
  readonly events: readonly {
    readonly name: string;
    readonly timeUnixNano: string;
    readonly attributes: Attributes;
  }[];
}

export interface FileSpanExporterOptions {
  /** File to append to; created with its folder if missing. */
  readonly path: string;
  /** Used when the span's resource has no `service.name`. */
  readonly serviceName?: string;
}

/**
 * Appends finished spans to a file as JSON lines, for local runs and tests. Each export is a
 * single append, so several processes can share one file without interleaving lines.
 */
export class FileSpanExporter implements SpanExporter {
  readonly #path: string;
  readonly #serviceName: string;
  #fd: number | undefined;
  #closed = false;

  constructor(options: FileSpanExporterOptions) {
    this.#path = options.path;
    this.#serviceName = options.serviceName ?? '';
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.#closed) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: new Error('FileSpanExporter is shut down'),
      });
      return;
    }
    try {
      const lines = spans
        .map((span) => JSON.stringify(toSpanRecord(span, this.#serviceName)) + '\n')
        .join('');
      writeSync(this.#open(), lines);
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }

  // Writes are synchronous: nothing is ever buffered here.
  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {
    this.#closed = true;
    if (this.#fd !== undefined) {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
  }

  #open(): number {
    if (this.#fd === undefined) {
      mkdirSync(dirname(this.#path), { recursive: true });
      this.#fd = openSync(this.#path, 'a');
    }
    return this.#fd;
  }
}

export function toSpanRecord(span: ReadableSpan, fallbackServiceName = ''): SpanRecord {
  const spanContext = span.spanContext();
  // Reading attributes before asynchronous resource detection settles logs an SDK error;
  // service.name is never asynchronous, so the fallback covers that short window.
  const serviceName = span.resource.asyncAttributesPending
    ? undefined
    : span.resource.attributes['service.name'];
  return {
    traceId: spanContext.traceId,
    spanId: spanContext.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    kind: SpanKind[span.kind],
    serviceName: typeof serviceName === 'string' ? serviceName : fallbackServiceName,
    startTimeUnixNano: toUnixNano(span.startTime),
    endTimeUnixNano: toUnixNano(span.endTime),
    durationMs: span.duration[0] * 1e3 + span.duration[1] / 1e6,
    status: { code: SpanStatusCode[span.status.code], message: span.status.message ?? '' },
    attributes: span.attributes,
    events: span.events.map((event) => ({
      name: event.name,
      timeUnixNano: toUnixNano(event.time),
      attributes: event.attributes ?? {},
    })),
  };
}

function toUnixNano([seconds, nanos]: HrTime): string {
  return (BigInt(seconds) * 1_000_000_000n + BigInt(nanos)).toString();
}
