import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICES, startStack, type RunningStack, type ServiceName } from '@scoregate/stack';

/**
 * Runs the whole stack in the foreground on embedded defaults (in-memory features with demo
 * data, the catalogue registry, the fixture models, no Kafka) until Ctrl-C.
 */
export async function runStack(options: {
  root: string;
  logDir: string;
  tracesFile?: string;
  readyTimeoutMs?: number;
}): Promise<void> {
  mkdirSync(options.logDir, { recursive: true });
  const logs = Object.fromEntries(
    SERVICES.map((s) => [
      s.name,
      createWriteStream(join(options.logDir, `${s.name}.log`), { flags: 'a' }),
    ]),
  ) as unknown as Record<ServiceName, NodeJS.WritableStream>;
  const env: Record<string, string> = {};
  if (options.tracesFile) env['SCOREGATE_TRACES_FILE'] = options.tracesFile;
  Object.assign(env, embeddedLearningLoop(options.root, process.env));
  console.log(
    'Starting Scoregate on embedded defaults (in-memory features with demo customers, SQLite registry seeded with the fixture models, no Kafka)…',
  );
  let stack: RunningStack;
  try {
    stack = await startStack({
      root: options.root,
      env,
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
      onOutput: (service, line) => {
        logs[service].write(`${line}\n`);
        if (/"level":(50|60)/.test(line)) console.error(`[${service}] ${line}`);
      },
    });
  } catch (error) {
    // Names the service that failed and quotes the last lines it printed.
    console.error((error as Error).message);
    process.exitCode = 1;
    return;
  }
  console.log('\nScoregate is up:');
  for (const service of SERVICES)
    console.log(`  ${service.name.padEnd(17)} ${stack.address(service.name)}`);
  console.log(
    `\nLogs: ${options.logDir}/<service>.log${options.tracesFile ? `   Spans: ${options.tracesFile}` : ''}`,
  );
  console.log('Try:  npm run demo');
  console.log(
    `      grpcurl -plaintext -d '{"scorer":"truck-roll-priority","entity_keys":[{"entity_type":"customer","key":"c-0001"}]}' ${stack.address('gateway')} scoregate.gateway.v1.ScoreService/Score`,
  );
  console.log('Ctrl-C stops every service.\n');
  await stopSignal();
  console.log('Stopping…');
  const codes = await stack.stop();
  for (const service of SERVICES)
    console.log(`  ${service.name.padEnd(17)} exited ${codes[service.name]}`);
  process.exitCode = Object.values(codes).every((code) => code === 0) ? 0 : 1;
}

/**
 * Without Kafka the gateway logs its predictions to a file: retrain-service follows that file, so
 * that the join (and RecordOutcomes) works on embedded defaults too. Left alone when Kafka carries
 * the predictions or the file to follow is set.
 */
export function embeddedLearningLoop(
  root: string,
  environment: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  if (
    environment['GATEWAY_KAFKA_BROKERS']?.trim() ||
    environment['RETRAIN_PREDICTION_FILE']?.trim()
  )
    return {};
  return {
    RETRAIN_PREDICTION_FILE:
      environment['GATEWAY_PREDICTION_FILE']?.trim() || join(root, '.data', 'predictions.jsonl'),
  };
}

/**
 * Resolves on the first SIGINT or SIGTERM. The launcher keeps listening after it, so that it
 * lives on to report how each service ended: Ctrl-C pressed again reaches the services too (one
 * process group), and they exit at once.
 */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.on('SIGINT', resolve);
    process.on('SIGTERM', resolve);
  });
}
