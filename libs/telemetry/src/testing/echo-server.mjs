// Started with `--import @scoregate/telemetry/register`. Answers Echo with the trace id it sees,
// logs one line inside the call, prints `listening <port>`, and on SIGTERM flushes telemetry
// and exits.
import { Buffer } from 'node:buffer';
import process from 'node:process';
import * as grpc from '@grpc/grpc-js';
// The built package, as `@scoregate/telemetry` resolves for an application.
import { createLogger, currentTraceId, shutdownTelemetry } from '../../dist/index.js';
import { echoService } from './echo-service.mjs';

const log = createLogger({ service: 'echo-server' });
const server = new grpc.Server();
server.addService(echoService, {
  echo(call, callback) {
    log.info({ request: call.request.toString() }, 'echo');
    callback(null, Buffer.from(currentTraceId()));
  },
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  process.stdout.write(`listening ${port}\n`);
});
process.once('SIGTERM', async () => {
  server.forceShutdown();
  await shutdownTelemetry();
  process.exit(0);
});
