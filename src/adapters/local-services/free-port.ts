import { createServer, type Server } from 'node:net'

const HOST = '127.0.0.1'

function listenOnAnyPort(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port: 0, host: HOST, exclusive: true }, () => {
      const address = server.address()
      if (address === null || typeof address === 'string') {
        reject(new Error('free-port: listening socket has no TCP address'))
        return
      }
      resolve(address.port)
    })
  })
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

/**
 * Ports the kernel considers free on 127.0.0.1 right now. All sockets stay open until
 * every port is chosen, so the ports are distinct; another process can still take one
 * before our service binds it, which is why callers retry on a bind error.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer())
  try {
    const ports: number[] = []
    for (const server of servers) ports.push(await listenOnAnyPort(server))
    return ports
  } finally {
    await Promise.all(servers.filter((server) => server.listening).map(close))
  }
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1)
  if (port === undefined) throw new Error('free-port: no port returned')
  return port
}
