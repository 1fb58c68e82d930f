/** The logging surface the rpc layer needs (pino's logger satisfies it). */
export interface RpcLogger {
  info(object: object, message?: string): void;
  info(message: string): void;
  warn(object: object, message?: string): void;
  warn(message: string): void;
  error(object: object, message?: string): void;
  error(message: string): void;
}
