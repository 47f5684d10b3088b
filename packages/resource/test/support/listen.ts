import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Listens on a free port of 127.0.0.1; returns the base URL and a close function. */
export async function listen(
  start: (port: number, host: string, ready: () => void) => Server,
): Promise<{ url: string; close(): Promise<void> }> {
  let server: Server | undefined
  await new Promise<void>((resolve) => {
    server = start(0, '127.0.0.1', resolve)
  })
  const { port } = server!.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve, reject) => {
        server!.closeAllConnections()
        server!.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}
