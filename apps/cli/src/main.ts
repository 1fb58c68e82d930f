#!/usr/bin/env node
import '@scoregate/config/supported-node';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { SERVICES } from '@scoregate/stack';
import { checkHealth } from '@scoregate/rpc';
import { runDemo } from './demo-command.js';
import { registerModelCommands, registerScorerCommands } from './registry-commands.js';
import { scoreOnce } from './score-command.js';
import { runStack } from './stack-command.js';
import { tlsTo } from './tls.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const positive = (value: string) => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('must be a positive number');
  return n;
};

const program = new Command('scoregate').description(
  'Scoregate: model serving inside a latency budget.',
);

program
  .command('stack')
  .description('run the five services on embedded defaults until Ctrl-C')
  .option('--logs <dir>', 'folder for service logs', join(root, '.data', 'logs'))
  .option('--traces-file <file>', 'also write every span as JSON lines to this file')
  .option(
    '--ready-timeout-ms <ms>',
    'how long the services may take to be SERVING',
    positive,
    30_000,
  )
  .action(async (options: { logs: string; tracesFile?: string; readyTimeoutMs: number }) => {
    await runStack({
      root,
      logDir: options.logs,
      readyTimeoutMs: options.readyTimeoutMs,
      ...(options.tracesFile ? { tracesFile: options.tracesFile } : {}),
    });
  });

program
  .command('demo')
  .description('send a few Score calls to a running stack and print the answers')
  .option('--address <host:port>', 'gateway address', '127.0.0.1:50051')
  .action(async (options: { address: string }) => {
    process.exitCode = await runDemo(options.address);
  });

program
  .command('score')
  .description('call Score once and print the response as JSON')
  .requiredOption('--scorer <name>', 'scorer (route) name, e.g. truck-roll-priority')
  .requiredOption('--entity <type:key...>', 'entity keys, e.g. customer:c-0001')
  .option('--budget-ms <ms>', 'latency budget for this request', positive)
  .option('--timeout-ms <ms>', 'client deadline', positive, 5000)
  .option('--address <host:port>', 'gateway address', '127.0.0.1:50051')
  .action(
    async (options: {
      scorer: string;
      entity: string[];
      budgetMs?: number;
      timeoutMs: number;
      address: string;
    }) => {
      process.exitCode = await scoreOnce({
        address: options.address,
        scorer: options.scorer,
        entities: options.entity,
        timeoutMs: options.timeoutMs,
        ...(options.budgetMs === undefined ? {} : { budgetMs: options.budgetMs }),
      });
    },
  );

program
  .command('health')
  .description('check grpc.health.v1 of every service on its default port')
  .action(async () => {
    let unhealthy = 0;
    for (const service of SERVICES) {
      const address = `127.0.0.1:${service.defaultPort}`;
      const { tls } = tlsTo(service.name);
      const status = await checkHealth(address, '', 1000, tls).catch(
        (e: Error) => `unreachable (${e.message})`,
      );
      if (status !== 'SERVING') unhealthy++;
      console.log(`${service.name.padEnd(17)} ${address}  ${status}`);
    }
    process.exitCode = unhealthy === 0 ? 0 : 1;
  });

registerModelCommands(program);
registerScorerCommands(program);

await program.parseAsync();
