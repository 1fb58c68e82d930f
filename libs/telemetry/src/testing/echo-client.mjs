// Started with `--import @scoregate/telemetry/register`. Calls Echo once on the port given as
// argument, outside any span of its own, and prints the trace id the server answered with.
import { Buffer } from 'node:buffer';
import process from 'node:process';
import * as grpc from '@grpc/grpc-js';
import { echoService } from './echo-service.mjs';

const Client = grpc.makeGenericClientConstructor(echoService, 'Echo');
const client = new Client(`127.0.0.1:${process.argv[2]}`, grpc.credentials.createInsecure());
client.echo(Buffer.from('ping'), { deadline: Date.now() + 10_000 }, (error, reply) => {
  client.close();
  if (error) throw error;
  process.stdout.write(`server trace ${reply.toString()}\n`);
});
