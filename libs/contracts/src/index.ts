// Public entry point of @scoregate/contracts: re-exports of the code that
// protoc-gen-es generates from proto/ (see tools/contracts/). Nothing else.

export * from './gen/scoregate/common/v1/common_pb.js';
export * from './gen/scoregate/gateway/v1/gateway_pb.js';
export * from './gen/scoregate/feature/v1/feature_pb.js';
export * from './gen/scoregate/registry/v1/registry_pb.js';
export * from './gen/scoregate/retrain/v1/retrain_pb.js';
export * from './gen/scoregate/events/v1/events_pb.js';
export * from './gen/inference/grpc_predict_v2_pb.js';

// Both scoregate.registry.v1 and scoregate.events.v1 define AliasMoved. The
// registry's keeps the plain name; the Kafka event is exported as
// AliasMovedEvent.
export type { AliasMoved } from './gen/scoregate/registry/v1/registry_pb.js';
export { AliasMovedSchema } from './gen/scoregate/registry/v1/registry_pb.js';
export type { AliasMoved as AliasMovedEvent } from './gen/scoregate/events/v1/events_pb.js';
export { AliasMovedSchema as AliasMovedEventSchema } from './gen/scoregate/events/v1/events_pb.js';
