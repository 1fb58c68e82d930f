import { env, logLevelEnv } from '@scoregate/config';
import { mutualTlsEnv } from '@scoregate/rpc';

/** Environment variables of retrain-service. */
export const retrainServiceConfig = {
  RETRAIN_SERVICE_HOST: env.string('127.0.0.1'),
  RETRAIN_SERVICE_PORT: env.port(50055),
  ...logLevelEnv,
  /** mTLS between services: SCOREGATE_TLS_CA / SCOREGATE_TLS_CERT / SCOREGATE_TLS_KEY. */
  ...mutualTlsEnv,
};
