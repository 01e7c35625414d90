/**
 * Closes a connection after an answer sent before the request body was read (a
 * 413, a 401), without the client losing that answer.
 *
 * Node ends a `Connection: close` answer with `socket.destroySoon()`: our FIN, then
 * the socket is closed as soon as the FIN is written. If the client is still
 * uploading, the kernel answers its next bytes (or the unread ones) with a reset,
 * and a client that had not yet read our answer loses it: it sees ECONNRESET, not
 * the 413 (measured: 2 uploads in 10 of 10 MB, on an idle machine). nginx calls
 * the cure a lingering close, and so do we: after the FIN, keep reading and
 * discarding what the client still sends until it is done (its FIN) or
 * LINGER_MS has passed, then close. Nothing is kept: the bytes are dropped as
 * they come, so a client that never stops costs LINGER_MS of one socket.
 *
 * The request must still be whole when this is called: a destroyed request
 * (a for-await loop left early destroys its stream) has taken its socket along.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Request, Response } from 'express';

/** The longest a connection stays open after its answer: long enough for any client to read it. */
export const LINGER_MS = 2_000;

/** Answers with `Connection: close`, then closes the connection the lingering way. */
export function closeAfterAnswer(req: Request, res: Response, lingerMs = LINGER_MS): void {
  res.setHeader('connection', 'close');
  // From here on the body's bytes are dropped as they arrive (no one listens).
  req.resume();
  const socket: Socket = req.socket;
  ignoreLaterRequests(socket);
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), lingerMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    // The client's FIN: all it meant to send has arrived, and the close resets nothing.
    socket.once('end', () => socket.destroy());
  };
}

/** Node's parser for a server socket: the fields used here, where Node 24 has them. */
interface SocketParser {
  onIncoming?: (req: IncomingMessage, keepAlive: boolean) => number;
}

/**
 * RFC 9112 section 9.6: after an answer with `Connection: close`, no further
 * request on the connection is processed. Node's parser still reads the lingering
 * bytes, and would hand each request it finds in them to the app (measured: 200
 * of 800 pipelined after a 413 were counted, none answered). Requests already
 * parsed are Node's; from here on a new one only has its body dropped. The
 * parser's `onIncoming` is Node's internal hook (Node 24): the test that sends
 * requests behind a 413 fails if a Node version moves it.
 */
function ignoreLaterRequests(socket: Socket): void {
  const parser = (socket as Socket & { parser?: SocketParser | null }).parser;
  if (typeof parser?.onIncoming !== 'function') return;
  parser.onIncoming = (later) => {
    later.resume();
    return 0;
  };
}
