import {
  annotateCall,
  Code,
  RpcError,
  type CallContext,
  type ServerInterceptor,
} from '@scoregate/rpc';
import type { Authenticator, Principal } from './authenticator.js';

const principals = new WeakMap<CallContext, Principal>();

/** The authenticated caller of a call, when authentication is on. */
export function principalOf(context: CallContext): Principal | undefined {
  return principals.get(context);
}

/** The tenant of a call (for logs and later per-tenant policy), when authentication is on. */
export function tenantOf(context: CallContext): string | undefined {
  return principals.get(context)?.tenant;
}

export interface AuthLogger {
  warn(object: object, message?: string): void;
  debug?(object: object, message?: string): void;
}

/**
 * Authenticates every call of the server it is installed on and checks the request's `scorer`
 * against the credential's scope: no or bad credential → UNAUTHENTICATED, a scorer outside the
 * scope → PERMISSION_DENIED. Health and reflection are not routed through interceptors, so they
 * stay reachable without credentials.
 */
export function createAuthInterceptor(options: {
  authenticator: Authenticator;
  logger: AuthLogger;
}): ServerInterceptor {
  const { authenticator, logger } = options;
  return async ({ method, context, request }, next) => {
    const rpc = `${method.parent.name}/${method.name}`;
    let principal: Principal;
    try {
      principal = await authenticator.authenticate(context.requestHeaders);
    } catch (error) {
      const refusal = RpcError.from(error);
      logger.warn(
        { rpc, peer: context.peer, code: 'UNAUTHENTICATED', reason: refusal.message },
        `refused ${rpc}: ${refusal.message}`,
      );
      throw refusal;
    }
    const scorer = scorerOf(request);
    if (scorer !== undefined && !principal.mayCall(scorer)) {
      const message = `tenant "${principal.tenant}" (${principal.credential}) may not call scorer "${scorer}"`;
      logger.warn(
        {
          rpc,
          peer: context.peer,
          tenant: principal.tenant,
          credential: principal.credential,
          scorer,
          code: 'PERMISSION_DENIED',
        },
        `refused ${rpc}: ${message}`,
      );
      throw new RpcError(Code.PERMISSION_DENIED, message);
    }
    principals.set(context, principal);
    annotateCall(context, { tenant: principal.tenant });
    logger.debug?.(
      { rpc, tenant: principal.tenant, credential: principal.credential, scorer },
      `authorized ${rpc}`,
    );
    await next();
  };
}

/** The scorer a request names; undefined when it names none (the handler rejects that). */
function scorerOf(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  const scorer = (request as { scorer?: unknown }).scorer;
  return typeof scorer === 'string' && scorer !== '' ? scorer : undefined;
}
