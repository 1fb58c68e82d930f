import { create, fromBinary } from '@bufbuild/protobuf';
import {
  FeatureRowSchema,
  FeatureUpdatedSchema,
  WriteFeaturesRequestSchema,
  type FeatureUpdated,
} from '@scoregate/contracts';
import { RpcError } from '@scoregate/rpc';
import type { FeatureRowWrite } from '../feature-store.js';
import type { FeatureCatalog } from '../feature-views.js';
import { validateWriteFeaturesRequest } from '../request-validation.js';

/** The `type` header of a FeatureUpdated record (proto/scoregate/events/v1/events.proto). */
export const FEATURE_UPDATED_TYPE = 'scoregate.events.v1.FeatureUpdated';

/** A decoded, validated event, or why it was refused (the reason goes to the dead-letter topic). */
export type DecodedFeatureUpdate =
  | { readonly ok: true; readonly row: FeatureRowWrite; readonly event: FeatureUpdated }
  | { readonly ok: false; readonly reason: string };

/**
 * Decodes one record value as `FeatureUpdated` and validates it exactly as a `WriteFeatures` row
 * (known view and features, declared value types, entity type of the view, a valid event time).
 */
export function decodeFeatureUpdated(
  value: Uint8Array,
  headers: Readonly<Record<string, string>>,
  catalog: FeatureCatalog,
): DecodedFeatureUpdate {
  const type = headers['type'];
  if (type !== undefined && type !== FEATURE_UPDATED_TYPE)
    return {
      ok: false,
      reason: `wrong type header: expected ${FEATURE_UPDATED_TYPE}, got ${JSON.stringify(type)}`,
    };
  let event: FeatureUpdated;
  try {
    event = fromBinary(FeatureUpdatedSchema, value);
  } catch (error) {
    return {
      ok: false,
      reason: `cannot decode ${FEATURE_UPDATED_TYPE}: ${(error as Error).message}`,
    };
  }
  const request = create(WriteFeaturesRequestSchema, {
    rows: [
      create(FeatureRowSchema, {
        entity: event.entity,
        view: event.view,
        values: event.values,
        eventTime: event.eventTime,
      }),
    ],
  });
  try {
    const [row] = validateWriteFeaturesRequest(request, catalog);
    return { ok: true, row: row!, event };
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    // The fields are named as in a WriteFeatures row; the event has the same fields.
    return { ok: false, reason: `invalid event: ${error.message.replace(/^rows\[0\]\.?/, '')}` };
  }
}
