import type { FeatureInput, Scorer, TensorSpec } from '@scoregate/contracts';
import type { CallContext } from '@scoregate/rpc';

/** One model of a scorer's chain, resolved to a concrete version with its contract. */
export interface ChainModel {
  readonly model: string;
  readonly alias: string;
  readonly version: string;
  /** Name of the model's single input tensor. */
  readonly inputName: string;
  /** The input tensor declares `accepts_non_finite` (NaN may be sent); absent = false. */
  readonly acceptsNonFinite?: boolean;
  /** Features in model input column order. */
  readonly contract: readonly FeatureInput[];
  readonly outputs: readonly TensorSpec[];
}

/** A scorer with its chain resolved, best model first. */
export interface Route {
  readonly scorer: Scorer;
  readonly chain: readonly ChainModel[];
  readonly budgetMs: number | undefined;
}

/** Resolves a scorer to its route (implemented by the route table that follows the registry). */
export interface RouteResolver {
  resolve(scorer: string, parent: CallContext, deadline: number): Promise<Route>;
}
