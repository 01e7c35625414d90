/**
 * The production stacks under test need the API's bearer token (a Compose or
 * Swarm secret read from a file). One token per test run, in a git-ignored file
 * readable by the API's uid, as scripts/api-token.sh would make it.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@stagecraft/testkit/repository';

export const API_TOKEN = randomBytes(32).toString('hex');
export const API_TOKEN_FILE = join(REPO_ROOT, 'test-results', `e2e-api-token-${process.pid}`);

mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
writeFileSync(API_TOKEN_FILE, `${API_TOKEN}\n`);
chmodSync(API_TOKEN_FILE, 0o644);

/** The header that stored reports need. */
export const authorization = { authorization: `Bearer ${API_TOKEN}` };
