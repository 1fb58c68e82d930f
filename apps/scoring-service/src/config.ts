import { fileURLToPath } from 'node:url';
import { env, logLevelEnv } from '@scoregate/config';
import { mutualTlsEnv } from '@scoregate/rpc';

const fixtures = fileURLToPath(new URL('../../../tools/models/fixtures', import.meta.url));
const cacheDir = fileURLToPath(new URL('../../../.data/scoring-cache', import.meta.url));

/** Environment variables of scoring-service. */
export const scoringServiceConfig = {
  SCORING_SERVICE_HOST: env.string('127.0.0.1'),
  SCORING_SERVICE_PORT: env.port(50053),
  /**
   * registry-service to follow (`host:port`). Unset: serve the files of SCORING_MODELS_DIR
   * instead (local-directory mode).
   */
  SCORING_REGISTRY_ADDRESS: env.optionalString(),
  /** Folder of `<model>/<version>/model.onnx` files loaded at start, in local-directory mode. */
  SCORING_MODELS_DIR: env.string(fixtures),
  /** Downloaded artifacts (content-addressed) and the last known registry state. */
  SCORING_CACHE_DIR: env.string(cacheDir),
  /** How long a version no alias points at any more stays loaded (registry mode). */
  SCORING_RETIRE_AFTER_MS: env.millis(30_000),
  /** Largest model artifact downloaded, in bytes. */
  SCORING_MAX_ARTIFACT_BYTES: env.positiveInt(256 * 1024 * 1024),
  /** Coalesce concurrent ModelInfer calls of one model version into one run. */
  SCORING_BATCHING: env.flag(true),
  /** Most rows one coalesced run holds. */
  SCORING_MAX_BATCH_ROWS: env.positiveInt(256),
  /** onnxruntime threads per operator. */
  SCORING_INTRA_OP_THREADS: env.positiveInt(1),
  /** Largest ModelInfer request accepted, in bytes. */
  SCORING_MAX_REQUEST_BYTES: env.positiveInt(16 * 1024 * 1024),
  ...logLevelEnv,
  /**
   * mTLS between services: SCOREGATE_TLS_CA / SCOREGATE_TLS_CERT / SCOREGATE_TLS_KEY (serving,
   * and following registry-service).
   */
  ...mutualTlsEnv,
};
