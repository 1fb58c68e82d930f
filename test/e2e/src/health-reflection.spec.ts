import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHealth } from '@scoregate/rpc';
import { SERVICES, type ServiceName } from '@scoregate/stack';
import { grpcurl, grpcurlPath } from './grpcurl.js';
import { golden, repoRoot, startE2eStack, type E2eStack } from './stack-fixture.js';

const serviceOf: Record<ServiceName, string> = {
  gateway: 'scoregate.gateway.v1.ScoreService',
  'feature-service': 'scoregate.feature.v1.FeatureService',
  'scoring-service': 'inference.GRPCInferenceService',
  'registry-service': 'scoregate.registry.v1.RegistryService',
  'retrain-service': 'scoregate.retrain.v1.RetrainService',
};

let stack: E2eStack;
beforeAll(async () => {
  grpcurlPath();
  stack = await startE2eStack();
}, 300_000);
afterAll(async () => {
  await stack?.stop();
});

describe.each(SERVICES.map((s) => [s.name] as const))('%s', (name) => {
  it('answers grpc.health.v1 Check with SERVING, for the server and for its service', async () => {
    expect(await checkHealth(stack.address(name))).toBe('SERVING');
    expect(await checkHealth(stack.address(name), serviceOf[name])).toBe('SERVING');
  });

  it('lists its services through reflection to grpcurl', async () => {
    const listed = (await grpcurl([stack.address(name), 'list'])).split('\n').filter(Boolean);
    expect(listed).toEqual(expect.arrayContaining([serviceOf[name], 'grpc.health.v1.Health']));
    const described = await grpcurl([stack.address(name), 'describe', serviceOf[name]]);
    expect(described).toContain(`${serviceOf[name]} is a service`);
  });
});

describe('grpcurl, with nothing but reflection, calls', () => {
  it('Score on the gateway and gets the golden prediction', async () => {
    const body = JSON.stringify({
      scorer: 'truck-roll-priority',
      entity_keys: [{ entity_type: 'customer', key: 'c-0001' }],
    });
    const reply = JSON.parse(
      await grpcurl([
        '-d',
        body,
        stack.address('gateway'),
        'scoregate.gateway.v1.ScoreService/Score',
      ]),
    ) as {
      score: number;
      servedBy: { model: string; version: string };
      traceId: string;
    };
    expect(reply.score).toBe(golden.predictions['truck-roll-gbt']?.probabilities[0]?.[1]);
    expect(reply.servedBy).toMatchObject({ model: 'truck-roll-gbt', version: '1' });
    expect(reply.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('ModelMetadata on scoring-service', async () => {
    const reply = JSON.parse(
      await grpcurl([
        '-d',
        '{"name":"truck-roll-logreg"}',
        stack.address('scoring-service'),
        'inference.GRPCInferenceService/ModelMetadata',
      ]),
    ) as { inputs: { name: string; datatype: string; shape: string[] }[] };
    expect(reply.inputs).toEqual([{ name: 'features', datatype: 'FP32', shape: ['-1', '4'] }]);
  });
});

/** Each grpcurl command of README.md's bash blocks, on one line (continuation lines joined). */
function readmeGrpcurlCommands(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  return [...readme.matchAll(/```bash\n([\s\S]*?)```/g)]
    .flatMap(([, block]) => block!.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.trim())
    .filter((line) => line.startsWith('grpcurl '));
}

describe('every grpcurl command in the README, as written (default ports → this stack)', () => {
  const commands = readmeGrpcurlCommands();

  it('finds the Score and health examples', () => {
    expect(commands.filter((c) => c.includes('ScoreService/Score')).length).toBeGreaterThan(0);
    expect(
      commands.filter((c) => c.includes('grpc.health.v1.Health/Check')).length,
    ).toBeGreaterThan(1);
  });

  it.each(commands)('%s', async (command) => {
    let local = command.replace(/^grpcurl /, `${grpcurlPath()} `);
    for (const service of SERVICES)
      local = local.replaceAll(`127.0.0.1:${service.defaultPort}`, stack.address(service.name));
    const { stdout } = await promisify(execFile)('bash', ['-c', local], { timeout: 20_000 });
    expect(JSON.parse(stdout)).toBeTypeOf('object');
    if (command.includes('Health/Check')) expect(JSON.parse(stdout)).toEqual({ status: 'SERVING' });
  });
});
