import { fileURLToPath } from 'node:url';
import { env } from '@scoregate/config';

const fixtures = fileURLToPath(new URL('../../../tools/models/fixtures', import.meta.url));

/** Environment variables of scoring-service. */
export const scoringServiceConfig = {
  SCORING_SERVICE_HOST: env.string('127.0.0.1'),
  SCORING_SERVICE_PORT: env.port(50053),
  /** Folder of `<model>/<version>/model.onnx` files loaded at start. */
  SCORING_MODELS_DIR: env.string(fixtures),
  /** onnxruntime threads per operator. */
  SCORING_INTRA_OP_THREADS: env.positiveInt(1),
  /** Largest ModelInfer request accepted, in bytes. */
  SCORING_MAX_REQUEST_BYTES: env.positiveInt(16 * 1024 * 1024),
  LOG_LEVEL: env.oneOf(['trace', 'debug', 'info', 'warn', 'error'] as const, 'info'),
};
