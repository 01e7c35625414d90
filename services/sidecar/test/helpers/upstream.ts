/** A real HTTP upstream on 127.0.0.1 for proxy tests, with its open sockets tracked. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocally } from '@stagecraft/testkit/local-server';

export interface Upstream {
  url: string;
  port: number;
  openSockets: () => number;
  close: () => Promise<void>;
}

export async function startUpstream(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  port = 0,
): Promise<Upstream> {
  const server = createServer(handler);
  server.keepAliveTimeout = 65_000;
  const local = await listenLocally(server, '127.0.0.1', port);
  return { url: local.url(''), port: local.port, openSockets: local.openSockets, close: local.close };
}
