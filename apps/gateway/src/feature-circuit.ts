import { CircuitBreakers, type CircuitState } from '@scoregate/resilience';
import { Code, RpcError, type RpcLogger } from '@scoregate/rpc';
import { getMeter } from '@scoregate/telemetry';

/** The key of feature-service's circuit (one per gateway: every read goes to the same service). */
const KEY = 'feature-service';

export interface FeatureCircuitOptions {
  /** Failed or late feature reads in a row that open the circuit. */
  readonly consecutiveFailures: number;
  /** How long the circuit stays open before one read is sent as a probe (ms). */
  readonly openMs: number;
  readonly logger: RpcLogger;
  /**
   * True while this gateway's own event loop queues (admission control sees it): a read that missed
   * its deadline then was late in the gateway, not in feature-service, and does not count.
   */
  readonly selfQueued?: () => boolean;
}

/**
 * What to do with one feature read: `call` feature-service (closed), `skip` it (open, or
 * half-open with the probe still out), or send it as the `probe` (half-open) — detached from the
 * call that triggered it, which is answered as if the circuit were open.
 */
export type FeatureReadAdmission = 'call' | 'skip' | 'probe';

/**
 * A circuit on the gateway's feature reads. feature-service failing or missing its deadline
 * `consecutiveFailures` times in a row opens it: reads are then skipped, and calls answered at once
 * with FEATURES_UNAVAILABLE — nothing is sent to a process that does not answer, so nothing piles
 * up in it to be worked through when it comes back. After `openMs` one read goes as a probe, with
 * its own deadline and no caller waiting on it; its success closes the circuit, its failure keeps
 * it open for another `openMs`.
 */
export class FeatureCircuit {
  private readonly breakers: CircuitBreakers;
  private probeOut = false;
  private readonly skipped;

  constructor(private readonly options: FeatureCircuitOptions) {
    this.breakers = new CircuitBreakers({
      consecutiveFailures: options.consecutiveFailures,
      resetTimeoutMs: options.openMs,
      // A read cancelled because its caller went away says nothing about feature-service; a
      // refused request is the gateway's bug, not the service's; a read that ran out of time while
      // the gateway's own loop queued (its overload) was late here, not there.
      isFailure: (error) => {
        const code = RpcError.from(error).code;
        if (code === Code.DEADLINE_EXCEEDED) return !(options.selfQueued?.() ?? false);
        return code !== Code.CANCELLED && code !== Code.INVALID_ARGUMENT;
      },
      onStateChange: (_key, state) => this.changed(state),
    });
    const meter = getMeter('scoregate.gateway');
    this.skipped = meter.createCounter('scoregate.gateway.feature_circuit.skipped', {
      description: 'Feature reads skipped (calls answered without stored features) while open',
    });
    meter
      .createObservableGauge('scoregate.gateway.feature_circuit.state', {
        description: 'State of the feature-service circuit: 0 closed, 1 half-open, 2 open',
      })
      .addCallback((result) => result.observe(STATE_VALUE[this.state()]));
  }

  state(): CircuitState {
    return this.breakers.state(KEY);
  }

  /** Decides the fate of the next feature read (see {@link FeatureReadAdmission}). */
  admit(): FeatureReadAdmission {
    const state = this.state();
    if (state === 'closed') return 'call';
    if (state === 'half-open' && !this.probeOut) {
      this.probeOut = true;
      return 'probe';
    }
    this.skipped.add(1);
    return 'skip';
  }

  /** Runs one admitted read (`call` or `probe`) through the circuit. */
  async run<T>(read: () => Promise<T>): Promise<T> {
    return this.breakers.run(KEY, read);
  }

  /** Sends the probe: nobody waits on it; its outcome only moves the circuit. */
  probe(read: () => Promise<unknown>): void {
    void this.run(read)
      .catch((error: unknown) =>
        this.options.logger.info(
          { err: error },
          'feature-service probe failed; feature circuit stays open',
        ),
      )
      .finally(() => (this.probeOut = false));
  }

  shutdown(): void {
    this.breakers.shutdown();
  }

  private changed(state: CircuitState): void {
    if (state === 'open') {
      this.options.logger.warn(
        { openMs: this.options.openMs },
        'feature circuit open: feature-service failed or was late repeatedly; calls are answered without stored features until a probe succeeds',
      );
    } else if (state === 'closed') {
      this.options.logger.info('feature circuit closed: feature-service answers again');
    }
  }
}

const STATE_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };
