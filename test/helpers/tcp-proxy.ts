/**
 * A TCP proxy on a loopback port to a real server (PostgreSQL, NATS) whose connections a test can
 * cut: `down()` destroys every proxied socket and refuses new ones (accepted and closed at once,
 * so the port stays ours), `up()` lets connections through again; `cut()` closes the port itself
 * as well (a connection attempt is refused, as when the server is gone) and `reopen()` listens on
 * the same port again.
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Proxied connections open now. */
  open(): number;
  down(): void;
  up(): void;
  cut(): void;
  reopen(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let refusing = false;
  let server: net.Server | null = null;
  const listen = (at: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = net.createServer((client) => {
        if (refusing) return void client.destroy();
        const upstream = net.connect(targetPort, targetHost);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      srv.once('error', reject);
      srv.listen(at, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port));
      server = srv;
    });
  const port = await listen(0);
  const cutAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port,
    open: () => sockets.size / 2,
    down() {
      refusing = true;
      cutAll();
    },
    up() {
      refusing = false;
    },
    cut() {
      server?.close();
      server = null;
      cutAll();
    },
    reopen: async () => void (await listen(port)),
    close: () =>
      new Promise<void>((resolve) => {
        refusing = true;
        cutAll();
        const srv = server;
        server = null;
        if (srv) srv.close(() => resolve());
        else resolve();
      }),
  };
}
