import { describeRegistryBehaviour } from './testing/registry-behaviour.js';
import { sqliteTestDatabase } from './testing/registry-harness.js';

describeRegistryBehaviour(sqliteTestDatabase);
