/**
 * The optional extra CA bundle for npm behind a TLS-intercepting proxy
 * (STAGECRAFT_CA_BUNDLE, else the system bundle), handed to image builds as the
 * `ca_bundle` build secret and to Compose files as STAGECRAFT_CA_BUNDLE. Where
 * no such file exists, nothing is handed on.
 */
import { existsSync } from 'node:fs';

function bundle(): string | undefined {
  const path = process.env.STAGECRAFT_CA_BUNDLE ?? '/etc/ssl/certs/ca-certificates.crt';
  return existsSync(path) ? path : undefined;
}

/** `docker build` arguments: the bundle as the ca_bundle secret, or none. */
export function caSecretArgs(): string[] {
  const path = bundle();
  return path === undefined ? [] : ['--secret', `id=ca_bundle,src=${path}`];
}

/** Environment for the Compose files: STAGECRAFT_CA_BUNDLE, or nothing. */
export function caBundleEnv(): Record<string, string> {
  const path = bundle();
  return path === undefined ? {} : { STAGECRAFT_CA_BUNDLE: path };
}
