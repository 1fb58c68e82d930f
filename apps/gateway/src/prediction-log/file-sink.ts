import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { toJsonString } from '@bufbuild/protobuf';
import { PredictionLoggedSchema } from '@scoregate/contracts';
import { reopening, type PredictionLogSink } from './sink.js';

/** Appends each event as one JSON line to `path` (its folder is created when missing). */
export function createFileSink(path: string): PredictionLogSink {
  const file = reopening(
    () => mkdir(dirname(path), { recursive: true }).then(() => open(path, 'a')),
    (handle) => handle.close(),
  );
  return {
    describe: `file ${path}`,
    encode: (event) => toJsonString(PredictionLoggedSchema, event) + '\n',
    send: (batch) =>
      file.use((handle) => handle.appendFile(batch.map((e) => e.payload).join(''), 'utf8')),
    close: () => file.close(),
  };
}
