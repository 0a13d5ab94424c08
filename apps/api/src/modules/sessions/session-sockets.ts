import type { WebSocket } from 'ws';

/** The graphql-ws sockets opened with each session, so that signing out closes them at once in this process. */
export class SessionSockets {
  private readonly bySession = new Map<string, Set<WebSocket>>();

  track(sessionId: string, socket: WebSocket): void {
    const sockets = this.bySession.get(sessionId) ?? new Set<WebSocket>();
    sockets.add(socket);
    this.bySession.set(sessionId, sockets);
    socket.once('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) this.bySession.delete(sessionId);
    });
  }

  close(sessionId: string): void {
    for (const socket of this.bySession.get(sessionId) ?? []) socket.close(4401, 'Unauthorized: signed out');
    this.bySession.delete(sessionId);
  }
}
