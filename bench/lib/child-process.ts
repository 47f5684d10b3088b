import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

const OUTPUT_TAIL_CHARS = 8_000

export interface ChildHandle {
  name: string
  process: ChildProcess
  /** Last few KB of stdout+stderr, kept only to explain a failed start. */
  output(): string
  /** Resolves with the exit code (or signal) once the child is gone. */
  exited: Promise<string>
}

/**
 * CPU seconds (user + system, all threads) a process has used, from Linux's /proc; undefined
 * elsewhere. Clock ticks are 100 a second on Linux (USER_HZ).
 */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}

const liveChildren = new Set<ChildHandle>()
const tempDirs = new Set<string>()

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => (port ? resolve(port) : reject(new Error('could not obtain a free port'))))
    })
  })
}

export function startChild(name: string, args: string[], env: Record<string, string>): ChildHandle {
  const child = spawn(process.execPath, args, {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let tail = ''
  // The pipes must be drained, or a chatty child blocks once the pipe buffer fills.
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`))
    child.once('error', (error) => resolve(`spawn error: ${error.message}`))
  })
  const handle: ChildHandle = { name, process: child, output: () => tail, exited }
  liveChildren.add(handle)
  void exited.then(() => liveChildren.delete(handle))
  return handle
}

/** Polls `url` until it answers 200; fails early if the child dies first. */
export async function waitForHttp(child: ChildHandle, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let dead: string | undefined
  void child.exited.then((how) => {
    dead = how
  })
  let last = 'no answer'
  while (Date.now() < deadline) {
    if (dead !== undefined) {
      throw new Error(`${child.name} exited (${dead}) before ${url} was ready:\n${child.output()}`)
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      await response.arrayBuffer()
      if (response.status === 200) return
      last = `HTTP ${response.status}`
    } catch (error) {
      last = (error as Error).message
    }
    await sleep(100)
  }
  throw new Error(`${child.name}: ${url} not ready after ${timeoutMs} ms (${last}):\n${child.output()}`)
}

export async function stopChild(child: ChildHandle, graceMs = 3_000): Promise<void> {
  if (!liveChildren.has(child)) return
  child.process.kill('SIGTERM')
  const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs)
  await child.exited
  clearTimeout(timer)
}

export function trackTempDir(path: string): void {
  tempDirs.add(path)
}

export function removeTempDir(path: string): void {
  rmSync(path, { recursive: true, force: true })
  tempDirs.delete(path)
}

/** Synchronous last resort: runs from 'exit' and signal handlers, where awaiting is not possible. */
function killEverything(): void {
  for (const child of liveChildren) child.process.kill('SIGKILL')
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
}

export function installExitHandlers(): void {
  process.once('exit', killEverything)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\nbench: received ${signal}, cleaning up`)
      killEverything()
      process.exit(130)
    })
  }
}
