import { connect } from 'node:net'

/** Redis for tests: `ONRAMP_TEST_REDIS_URL`, else the local server used in CI. */
export const testRedisUrl: string = process.env.ONRAMP_TEST_REDIS_URL || 'redis://127.0.0.1:6379'

/** Undefined when Redis answers PING at the test URL, else why not. */
export async function redisUnreachable(): Promise<string | undefined> {
  const url = new URL(testRedisUrl)
  return new Promise((resolve) => {
    const socket = connect(Number(url.port || 6379), url.hostname)
    let reply = ''
    const done = (reason: string | undefined): void => {
      socket.destroy()
      resolve(reason)
    }
    socket.setTimeout(3000, () => done(`Redis at ${url.host} did not answer`))
    socket.on('error', (error) => done(`Redis is not reachable at ${url.host} (${error.message})`))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.includes('\r\n'))
        done(/^\+PONG|^-NOAUTH/.test(reply) ? undefined : `Redis answered ${reply.trim()}`)
    })
  })
}

/**
 * The `skip` option for a `describe` that needs Redis: false when it answers, and in CI (`CI`
 * set), where the tests must run and fail rather than pass by skipping; else the reason.
 */
export async function skipUnlessRedis(): Promise<string | false> {
  const reason = await redisUnreachable()
  if (reason === undefined) return false
  if (process.env.CI) {
    console.error(`CI is set, so not skipping: ${reason}`)
    return false
  }
  return `skipped: ${reason}; start it or set ONRAMP_TEST_REDIS_URL`
}
