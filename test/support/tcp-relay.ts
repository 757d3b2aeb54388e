/**
 * A TCP relay on 127.0.0.1 between clients and a server, to break connections the way networks
 * do: `reset` destroys both ends at once (a crashed peer: the other side sees the socket close,
 * with no WebSocket close frame), `blackhole` stops forwarding either way while keeping both
 * sockets open (a pulled cable, a dead NAT entry: neither side hears anything, ever).
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

export interface RelayedConnection {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Both ends destroyed: each side sees its socket close. */
  reset(): void;
  /** Nothing more is forwarded in either direction; both sockets stay open. */
  blackhole(): void;
}

export interface Relay {
  readonly port: number;
  /** Connections through the relay, in the order they were accepted. */
  readonly connections: RelayedConnection[];
  close(): Promise<void>;
}

export async function startRelay(targetPort: number): Promise<Relay> {
  const connections: RelayedConnection[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    let cut = false;
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (!cut) to.write(chunk);
      });
      from.on('end', () => {
        if (!cut) to.end();
      });
      from.on('close', () => {
        if (!cut) to.destroy();
      });
      from.on('error', () => {});
    };
    forward(client, upstream);
    forward(upstream, client);
    connections.push({
      client,
      upstream,
      reset: () => {
        client.destroy();
        upstream.destroy();
      },
      blackhole: () => {
        cut = true;
      },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    close: async () => {
      for (const connection of connections) connection.reset();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
