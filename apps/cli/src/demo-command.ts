import { DegradationReason, ScoreService } from '@scoregate/contracts';
import { createRpcClient, Code, RpcError } from '@scoregate/rpc';
import { tlsTo } from './tls.js';

const DEMO_CUSTOMERS = ['c-0001', 'c-0002', 'c-0003', 'c-0004', 'c-0005'];

/** Sends a few Score calls to a running stack and prints how each was answered. */
export async function runDemo(address: string): Promise<number> {
  const client = createRpcClient(ScoreService, {
    address,
    defaultTimeoutMs: 2000,
    ...tlsTo('gateway'),
  });
  try {
    await client.waitForReady(5000);
  } catch {
    console.error(`No gateway at ${address}. Start the stack first: npm start`);
    client.close();
    return 1;
  }
  console.log(`Scoring demo customers with scorer truck-roll-priority at ${address}\n`);
  console.log('customer  score    served by              degraded  budget used  trace id');
  for (const key of DEMO_CUSTOMERS) {
    const reply = await client.score({
      scorer: 'truck-roll-priority',
      entityKeys: [{ entityType: 'customer', key }],
    });
    const servedBy = reply.servedBy?.model
      ? `${reply.servedBy.model}@${reply.servedBy.version}`
      : 'default answer';
    const total = reply.timings?.total
      ? Number(reply.timings.total.nanos) / 1e6 + Number(reply.timings.total.seconds) * 1000
      : 0;
    const budget = reply.timings?.budget
      ? Number(reply.timings.budget.seconds) * 1000 + reply.timings.budget.nanos / 1e6
      : 0;
    const reasons = reply.reasons.map((r) => DegradationReason[r]).join(',');
    console.log(
      `${key}    ${reply.score.toFixed(4)}   ${servedBy.padEnd(22)} ${reply.degraded ? `yes ${reasons}` : 'no'.padEnd(8)}  ${total.toFixed(2)}/${budget} ms  ${reply.traceId}`,
    );
  }
  const unknown = await client
    .score({ scorer: 'no-such-scorer', entityKeys: [{ entityType: 'customer', key: 'c-0001' }] })
    .catch((e: unknown) => RpcError.from(e));
  if (unknown instanceof RpcError)
    console.log(`\nAn unknown scorer is refused: ${Code[unknown.code]}: ${unknown.message}`);
  client.close();
  return 0;
}
