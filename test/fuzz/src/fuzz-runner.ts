import fc from 'fast-check';
import type { DescMethod } from '@bufbuild/protobuf';
import { Code, createRawClient, methodPath, type RawAnswer, type RawClient } from '@scoregate/rpc';
import type { ServiceName } from '@scoregate/stack';
import { decoded, type FuzzInput } from './fuzz-input.js';
import { fuzzInFlight, fuzzPath, fuzzRuns, fuzzSeed } from './fuzz-settings.js';
import { unhealthyServices, type FuzzStack } from './fuzz-stack.js';
import { printReport, type FuzzReport } from './fuzz-report.js';

/** One fuzzed call and how it ended. */
export interface FuzzResult {
  readonly input: FuzzInput;
  readonly answer: RawAnswer;
  readonly elapsedMs: number;
}

/** A batch's check after its answers: throws when the answers break a property. */
export type BatchCheck = (results: readonly FuzzResult[]) => Promise<void>;

export interface RpcTarget {
  readonly service: ServiceName;
  readonly method: DescMethod;
  /** The statuses the contract documents for this RPC (client input never earns INTERNAL). */
  readonly allowed: readonly Code[];
  readonly inputs: fc.Arbitrary<FuzzInput>;
  /** The call's deadline (ms). Default 5 s. */
  readonly timeoutMs?: number;
  /** A response stream is cancelled after this many messages (Watch never ends by itself). */
  readonly maxMessages?: number;
  /** Runs before each batch is sent (e.g. reads what it may write); returns the batch's check. */
  readonly around?: (inputs: readonly FuzzInput[]) => Promise<BatchCheck>;
}

/** How much later than its deadline a call may settle before it counts as a hang. */
const SETTLE_MARGIN_MS = 2_000;

/**
 * Sends `runs` fuzzed inputs to one RPC, `fuzzInFlight` at a time, as a fast-check property:
 * every call settles within its deadline plus a margin with a documented status, the target's
 * batch check holds, and afterwards every service of the stack still runs and answers health
 * SERVING. Prints a line of statistics; a failure names the seed and path that replay it.
 */
export async function fuzzRpc(
  stack: FuzzStack,
  target: RpcTarget,
  runs = fuzzRuns,
): Promise<FuzzReport> {
  const name = `${target.method.parent.name}/${target.method.name}`;
  const report: FuzzReport = { rpc: name, valid: 0, raw: 0, statuses: new Map(), slowestMs: 0 };
  const client = createRawClient({ address: stack.address(target.service), tls: stack.tls });
  const batch = fc.array(target.inputs, { minLength: fuzzInFlight, maxLength: fuzzInFlight });
  try {
    const details = await fc.check(
      fc.asyncProperty(batch, async (inputs) => {
        const check = await target.around?.(inputs);
        const results = await Promise.all(inputs.map((input) => send(client, target, input)));
        for (const result of results) record(report, target, result);
        for (const result of results) expectDocumented(name, target, result);
        await check?.(results);
      }),
      {
        seed: fuzzSeed,
        numRuns: Math.ceil(runs / fuzzInFlight),
        ...(fuzzPath ? { path: fuzzPath } : {}),
      },
    );
    const crashed = await unhealthyServices(stack);
    printReport(report, crashed.length);
    if (details.failed) throw new Error(failureMessage(name, details));
    if (crashed.length > 0)
      throw new Error(
        `${name}: after ${report.valid + report.raw} inputs (seed ${fuzzSeed}): ${crashed.join('; ')}\n` +
          crashed.map((line) => stack.lastLines(line.split(' ')[0] as ServiceName)).join('\n'),
      );
    return report;
  } finally {
    client.close();
  }
}

async function send(client: RawClient, target: RpcTarget, input: FuzzInput): Promise<FuzzResult> {
  const options = {
    timeoutMs: target.timeoutMs ?? 5_000,
    ...(target.maxMessages ? { maxMessages: target.maxMessages } : {}),
  };
  const path = methodPath(target.method);
  const started = performance.now();
  const call =
    target.method.methodKind === 'client_streaming'
      ? client.clientStream(path, [...input.messages], options)
      : target.method.methodKind === 'server_streaming'
        ? client.serverStream(path, input.messages[0]!, options)
        : client.unary(path, input.messages[0]!, options);
  // A call that never settles must fail the property, not stall it.
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<RawAnswer>((resolve) => {
    timer = setTimeout(
      () => resolve({ code: Code.UNKNOWN, details: 'never settled', messages: [] }),
      options.timeoutMs + SETTLE_MARGIN_MS + 1_000,
    );
  });
  const answer = await Promise.race([call, hung]).finally(() => clearTimeout(timer));
  return { input, answer, elapsedMs: performance.now() - started };
}

function record(
  report: FuzzReport,
  target: RpcTarget,
  { input, answer, elapsedMs }: FuzzResult,
): void {
  if (input.kind === 'valid') report.valid++;
  else report.raw++;
  const code = Code[answer.code] ?? String(answer.code);
  report.statuses.set(code, (report.statuses.get(code) ?? 0) + 1);
  report.slowestMs = Math.max(report.slowestMs, elapsedMs);
}

function expectDocumented(name: string, target: RpcTarget, result: FuzzResult): void {
  const { answer, elapsedMs, input } = result;
  const deadline = target.timeoutMs ?? 5_000;
  const shown = `${input.kind} input ${hex(input.messages)}`;
  if (elapsedMs > deadline + SETTLE_MARGIN_MS)
    throw new Error(
      `${name}: a call took ${Math.round(elapsedMs)} ms, past its ${deadline} ms deadline; ${shown}`,
    );
  // Where the deadline is a call's normal end (Watch), a busy machine may reach it first.
  const timedOut = answer.code === Code.DEADLINE_EXCEEDED && target.allowed.includes(answer.code);
  const single = target.method.methodKind !== 'client_streaming';
  if (
    single &&
    !timedOut &&
    answer.code !== Code.INVALID_ARGUMENT &&
    !decodes(target.method, input)
  )
    throw new Error(
      `${name}: undecodable bytes answered ${Code[answer.code]} "${answer.details}", not INVALID_ARGUMENT; ${shown}`,
    );
  if (!target.allowed.includes(answer.code))
    throw new Error(
      `${name}: answered ${Code[answer.code]} "${answer.details}", not one of ${target.allowed
        .map((code) => Code[code])
        .join(', ')}; ${shown}`,
    );
}

function decodes(method: DescMethod, input: FuzzInput): boolean {
  return decoded(method.input, input.messages[0]) !== undefined;
}

function hex(messages: readonly Uint8Array[]): string {
  const shown = messages.slice(0, 4).map((bytes) => {
    const text = Buffer.from(bytes.subarray(0, 96)).toString('hex');
    return bytes.length > 96 ? `${text}… (${bytes.length} bytes)` : text;
  });
  return `[${shown.join(', ')}${messages.length > 4 ? `, … ${messages.length} messages` : ''}]`;
}

function failureMessage(name: string, details: fc.RunDetails<[FuzzInput[]]>): string {
  const replay = `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''}`;
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : '';
  return `${name}: property failed after ${details.numRuns} batch(es) of ${fuzzInFlight}; replay with ${replay}\n${error}`;
}
