import { spawn } from 'node:child_process'
import { join } from 'node:path'

const main = join(import.meta.dirname, '../../src/cli/main.ts')

export interface CLIResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `onramp ARGS` in a child process whose only environment is `env`. */
export function onramp(args: readonly string[], env: Record<string, string>): Promise<CLIResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Runs `onramp ARGS --json`, expects success and returns the parsed output. */
export async function onrampJSON(
  args: readonly string[],
  env: Record<string, string>,
  // biome-ignore lint/suspicious/noExplicitAny: tests read the printed JSON freely and assert on it
): Promise<any> {
  const result = await onramp([...args, '--json'], env)
  if (result.code !== 0) throw new Error(`onramp ${args.join(' ')} failed (${result.code}): ${result.stderr}`)
  return JSON.parse(result.stdout)
}
