export { loadAuthFile, parseAuthFile, type AuthSettings } from './auth-file.js';
export { createAuthenticator, type Authenticator, type Principal } from './authenticator.js';
export { createAuthInterceptor, principalOf, tenantOf, type AuthLogger } from './interceptor.js';
export { compileScope, type ScorerScope } from './scopes.js';
export { internalTls, publicTls } from './tls.js';
export { securityConfig } from './config.js';
export { INTERNAL_TENANT, gatewaySecurity, type GatewaySecurity } from './setup.js';
