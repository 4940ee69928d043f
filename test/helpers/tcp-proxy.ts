/**
 * A TCP proxy on a loopback port to a real server (PostgreSQL, NATS) whose connections a test can
 * cut: `down()` destroys every proxied socket and refuses new ones (accepted and closed at once,
 * so the port stays ours), `up()` lets connections through again.
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Proxied connections open now. */
  open(): number;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let refusing = false;
  const server = net.createServer((client) => {
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
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
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
    close: () =>
      new Promise<void>((resolve) => {
        refusing = true;
        cutAll();
        server.close(() => resolve());
      }),
  };
}
