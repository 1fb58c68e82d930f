import { describeRegistryBehaviour } from './testing/registry-behaviour.js';
import { postgresTestDatabase } from './testing/registry-harness.js';

// The real PostgreSQL started by tools/infra (DATABASE_URL), in a schema of this run's own.
describeRegistryBehaviour(postgresTestDatabase);
