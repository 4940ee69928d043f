/**
 * Sends made in one turn of the event loop leave in one socket write: the first send corks the
 * connection's TCP socket and the next tick uncorks it. Acks of a group commit reach an agent
 * together, so this turns many small writes (one syscall each) into one.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export function corkedSender(ws: WebSocket): (data: string) => void {
  // ws keeps its socket private; without one (or once closed) sends go out as usual.
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket?.uncork();
  };
  return (data) => {
    if (ws.readyState !== ws.OPEN) return;
    if (socket && !corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    ws.send(data);
  };
}
