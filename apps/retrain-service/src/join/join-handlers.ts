import { durationFromMs } from '@bufbuild/protobuf/wkt';
import type { RetrainService } from '@scoregate/contracts';
import { RpcError, type ServiceHandlers } from '@scoregate/rpc';
import type { LabeledExampleStore } from './labeled-example-store.js';
import { checkOutcome, isProblem, outcomeLimits } from './outcome-validation.js';
import type { OutcomeInput } from './join-inputs.js';

/** Refuses outcomes stamped too far ahead of the receiving clock (see outcome-clock.ts). */
export type OutcomeClockCheck = (
  outcomes: readonly OutcomeInput[],
) => { readonly index: number; readonly reason: string } | undefined;

type JoinHandlers = Pick<
  ServiceHandlers<typeof RetrainService>,
  'recordOutcomes' | 'getJoinStatus'
>;

/**
 * RecordOutcomes and GetJoinStatus over the labelled-example store. A RecordOutcomes request is
 * checked whole before anything is written, then applied in one transaction: all or nothing.
 */
export function createJoinHandlers(
  store: LabeledExampleStore,
  checkClock: OutcomeClockCheck = () => undefined,
): JoinHandlers {
  return {
    recordOutcomes(request) {
      const count = request.outcomes.length;
      if (count === 0)
        throw RpcError.invalidArgument('outcomes', 'at least one outcome is required');
      if (count > outcomeLimits.outcomesPerCall)
        throw RpcError.invalidArgument(
          'outcomes',
          `${count} outcomes; at most ${outcomeLimits.outcomesPerCall} per call (split the file or use the outcome topic)`,
        );
      const outcomes = request.outcomes.map((outcome, i) => {
        const checked = checkOutcome(outcome);
        if (isProblem(checked))
          throw RpcError.invalidArgument(`outcomes[${i}].${checked.field}`, checked.description);
        return checked;
      });
      const ahead = checkClock(outcomes);
      if (ahead !== undefined)
        throw RpcError.invalidArgument(`outcomes[${ahead.index}].observed_at`, ahead.reason);
      return store.apply({ outcomes });
    },

    getJoinStatus() {
      const counts = store.counts();
      return {
        counts: Object.fromEntries(
          Object.entries(counts).map(([name, value]) => [name, BigInt(value)]),
        ) as Record<keyof typeof counts, bigint>,
        joinWindow: durationFromMs(store.joinWindowMs),
        store: store.file,
      };
    },
  };
}
