/** The five services of a Scoregate stack, in start order, with their default ports. */
export const SERVICES = [
  { name: 'registry-service', envPrefix: 'REGISTRY_SERVICE', defaultPort: 50054 },
  { name: 'feature-service', envPrefix: 'FEATURE_SERVICE', defaultPort: 50052 },
  { name: 'scoring-service', envPrefix: 'SCORING_SERVICE', defaultPort: 50053 },
  { name: 'retrain-service', envPrefix: 'RETRAIN_SERVICE', defaultPort: 50055 },
  { name: 'gateway', envPrefix: 'GATEWAY', defaultPort: 50051 },
] as const;

export type ServiceName = (typeof SERVICES)[number]['name'];
