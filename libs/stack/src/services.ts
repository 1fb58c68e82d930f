/**
 * The five services of a Scoregate stack with their default ports. `tier` is the start order:
 * a tier starts once every service of the tiers before it is SERVING (scoring-service follows
 * the registry; the gateway calls everything).
 */
export const SERVICES = [
  { name: 'registry-service', envPrefix: 'REGISTRY_SERVICE', defaultPort: 50054, tier: 0 },
  { name: 'feature-service', envPrefix: 'FEATURE_SERVICE', defaultPort: 50052, tier: 1 },
  { name: 'scoring-service', envPrefix: 'SCORING_SERVICE', defaultPort: 50053, tier: 1 },
  { name: 'retrain-service', envPrefix: 'RETRAIN_SERVICE', defaultPort: 50055, tier: 1 },
  { name: 'gateway', envPrefix: 'GATEWAY', defaultPort: 50051, tier: 2 },
] as const;

export type ServiceName = (typeof SERVICES)[number]['name'];
