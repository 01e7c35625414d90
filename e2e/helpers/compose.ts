/** The environment the end-to-end tests give a compose project: its own ports, the API token file, Alertmanager's webhook URL file, the CA bundle. */
import { caBundleEnv } from '@stagecraft/testkit/ca-bundle';
import { NOWHERE_WEBHOOK_URL_FILE } from './alert-webhook.js';
import { API_TOKEN_FILE } from './api-token.js';

export function composeEnv(ports: {
  gateway: number;
  prometheus: number;
  inspect?: number;
}): Record<string, string> {
  return {
    GATEWAY_PORT: String(ports.gateway),
    PROMETHEUS_PORT: String(ports.prometheus),
    INSPECT_PORT: String(ports.inspect ?? 19229),
    STAGECRAFT_API_TOKEN_FILE: API_TOKEN_FILE,
    STAGECRAFT_ALERT_WEBHOOK_URL_FILE: NOWHERE_WEBHOOK_URL_FILE,
    ...caBundleEnv(),
  };
}
