#!/usr/bin/env node
import '@scoregate/config/supported-node';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { runDemo } from './demo-command.js';
import { checkServices } from './health-command.js';
import { registerModelCommands, registerScorerCommands } from './registry-commands.js';
import { DEFAULT_RETRAIN_ADDRESS, importOutcomes, outcomesStatus } from './outcomes-command.js';
import { processIo } from './registry-io.js';
import { scoreOnce } from './score-command.js';
import { runStack } from './stack-command.js';

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
  .description(
    'check grpc.health.v1 of every service on its default port, or of one server (--address)',
  )
  .option(
    '--address <host:port>',
    "check only this server (mTLS with the services' certificate when SCOREGATE_TLS_* are set)",
  )
  .option('--service <name>', 'with --address: ask about this service (default: the whole server)')
  .option('--timeout-ms <ms>', 'deadline of each check', positive, 1000)
  .action(async (options: { address?: string; service?: string; timeoutMs: number }) => {
    process.exitCode = await checkServices(options);
  });

registerModelCommands(program);
registerScorerCommands(program);

const outcomes = program
  .command('outcomes')
  .description('outcomes (labels) of scored requests, joined with their predictions');
outcomes
  .command('import <file>')
  .description(
    'send the outcomes of a CSV file (request_id,label,observed_at[,batch_index,entity_type,entity_key,scorer,source]) or a JSON-lines file (OutcomeObserved JSON), with a progress bar',
  )
  .option('--retrain <host:port>', 'retrain-service address', DEFAULT_RETRAIN_ADDRESS)
  .option('--format <csv|jsonl>', 'the file format (default: from the extension)')
  .option('--source <name>', 'the source of outcomes that name none, e.g. billing-labels')
  .action(async (file: string, options: { retrain: string; format?: string; source?: string }) => {
    process.exitCode = await importOutcomes({ file, ...options }, processIo);
  });
outcomes
  .command('status')
  .description("the join's counts: received, joined, waiting, expired, duplicates")
  .option('--retrain <host:port>', 'retrain-service address', DEFAULT_RETRAIN_ADDRESS)
  .action(async (options: { retrain: string }) => {
    process.exitCode = await outcomesStatus(options.retrain, processIo);
  });

await program.parseAsync();
