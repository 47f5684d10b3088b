// `npm run bench`: our token endpoint vs oidc-provider, same machine, same load generator, same run.
// Env: BENCH_DURATION (s per timed window, default 10), BENCH_WARMUP (s, default 2),
// BENCH_FIRST_WARMUP (s before each target's first window, default 10),
// BENCH_CONNECTIONS (default 20), BENCH_ONLY (peer | ours | resource | floor | all; by default
// all but the floor, a bare endpoint that shows what our server's own work costs),
// BENCH_SCENARIO (run only scenarios whose name contains it, or one of a comma-separated list,
// e.g. `exchange` or `peer,enrollment`), BENCH_ROUNDS (passes over the scenarios, default 1; with
// more, each ratio is judged on the median of its rounds).
// Targets whose scenarios are all filtered out are not started.
import { availableParallelism, cpus } from 'node:os'
import { installExitHandlers } from './lib/child-process.ts'
import { failureShare, formatRatios, formatTable, type Ratio, type Row } from './lib/report.ts'
import type { Workload } from './lib/workload.ts'
import {
  FLOOR_ENROLLMENT,
  FLOOR_EXCHANGE,
  OURS_ENROLLMENT,
  OURS_EXCHANGE,
  PEER_CLIENT_CREDENTIALS,
  RESOURCE_CEILING,
  RESOURCE_VERIFY,
  type Scenario,
  scenarios,
} from './scenarios.ts'
import {
  type RunningTarget,
  startFloor,
  startOurs,
  startPeer,
  startResource,
  type TargetMap,
  type TargetName,
} from './targets.ts'

const ratios: Ratio[] = [
  {
    label: 'token exchange (DPoP) / peer client_credentials',
    numerator: OURS_EXCHANGE,
    denominator: PEER_CLIENT_CREDENTIALS,
    target: 1.5,
  },
  {
    label: 'anonymous enrollment / peer client_credentials',
    numerator: OURS_ENROLLMENT,
    denominator: PEER_CLIENT_CREDENTIALS,
    target: 1.0,
  },
  {
    label: 'resource verifyRequest (DPoP) / raw node:crypto ceiling',
    numerator: RESOURCE_VERIFY,
    denominator: RESOURCE_CEILING,
    target: 0.7,
  },
  // No targets: how much of what a bare endpoint reaches on this machine our server keeps, and
  // what the bare endpoint itself reaches against the peer (the most the machine allows).
  { label: 'token exchange (DPoP) / floor', numerator: OURS_EXCHANGE, denominator: FLOOR_EXCHANGE },
  { label: 'anonymous enrollment / floor', numerator: OURS_ENROLLMENT, denominator: FLOOR_ENROLLMENT },
  { label: 'floor token exchange / peer', numerator: FLOOR_EXCHANGE, denominator: PEER_CLIENT_CREDENTIALS },
  {
    label: 'floor anonymous enrollment / peer',
    numerator: FLOOR_ENROLLMENT,
    denominator: PEER_CLIENT_CREDENTIALS,
  },
]

const starters: { [K in TargetName]: () => Promise<TargetMap[K]> } = {
  peer: startPeer,
  ours: startOurs,
  resource: startResource,
  floor: startFloor,
}

// Above this share of non-2xx/errors a figure measures error handling, not the scenario.
const MAX_FAILURE_SHARE = 0.01

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`)
  return value
}

function selectedTargets(): TargetName[] {
  const only = process.env.BENCH_ONLY ?? ''
  const names = Object.keys(starters) as TargetName[]
  if (only === 'all') return names
  if (only === '') return names.filter((name) => name !== 'floor')
  if ((names as string[]).includes(only)) return [only as TargetName]
  throw new Error(`BENCH_ONLY must be ${names.join(', ')} or all, got ${only}`)
}

function isScenarioPicked(name: string): boolean {
  const picks = (process.env.BENCH_SCENARIO ?? '').toLowerCase().split(',').filter(Boolean)
  return picks.length === 0 || picks.some((pick) => name.toLowerCase().includes(pick))
}

/**
 * The windows to measure, in order. When both the peer and our server are measured, the peer gets
 * a second window after ours and ratios use the mean of its two: the machine's speed drifts over a
 * run, and measuring the peer before and after ours keeps the drift out of the ratios.
 */
function runPlan(started: TargetName[]): { scenario: Scenario; label: string }[] {
  const picked = scenarios.filter((s) => started.includes(s.target) && isScenarioPicked(s.name))
  const plan = picked.map((scenario) => ({ scenario, label: scenario.name }))
  const lastOurs = plan.findLastIndex(({ scenario }) => scenario.target === 'ours')
  const peer = picked.find((scenario) => scenario.target === 'peer')
  if (peer && lastOurs >= 0) plan.splice(lastOurs + 1, 0, { scenario: peer, label: `${peer.name}, again` })
  return plan
}

function log(message: string): void {
  console.log(`  ${message}`)
}

async function main(): Promise<number> {
  installExitHandlers()
  const seconds = numberFromEnv('BENCH_DURATION', 10)
  const warmUpSeconds = numberFromEnv('BENCH_WARMUP', 2)
  // A fresh process (and the load generator against it) takes several seconds to reach its steady
  // speed: with the short warm-up, each target's first window measured 10–25 % below its later ones.
  const firstWarmUpSeconds = Math.max(warmUpSeconds, numberFromEnv('BENCH_FIRST_WARMUP', 10))
  const connections = Math.round(numberFromEnv('BENCH_CONNECTIONS', 20))
  const rounds = Math.round(numberFromEnv('BENCH_ROUNDS', 1))
  const targets = selectedTargets().filter((name) =>
    scenarios.some((scenario) => scenario.target === name && isScenarioPicked(scenario.name)),
  )

  console.log(
    `bench: node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ` +
      `${seconds} s per window after ${warmUpSeconds} s warm-up (${firstWarmUpSeconds} s before a target's first), ` +
      `${connections} connections, ` +
      `${rounds} round${rounds === 1 ? '' : 's'}, targets: ${targets.join(', ')}`,
  )
  if (seconds + warmUpSeconds > 45) {
    console.log('bench: warning: DPoP proofs are pre-generated; windows this long may outlive the iat window')
  }

  const rows: Row[] = []
  const problems: string[] = []
  const running: RunningTarget[] = []
  try {
    const started: Partial<TargetMap> = {}
    for (const name of targets) {
      console.log(`starting ${name}`)
      try {
        const target = await starters[name]()
        running.push(target)
        Object.assign(started, { [name]: target })
        log(`${name} ready at ${target.baseUrl}`)
      } catch (error) {
        problems.push(`${name}: failed to start: ${(error as Error).message}`)
      }
    }

    const workloads = new Map<Scenario, Workload>()
    const warmedUp = new Set<TargetName>()
    const plan = runPlan(Object.keys(started) as TargetName[])
    const passes = Array.from({ length: rounds }, (_, i) =>
      plan.map(({ scenario, label }) => ({
        scenario,
        round: i + 1,
        label: rounds === 1 ? label : `${label} [round ${i + 1}]`,
      })),
    )
    for (const { scenario, label, round } of passes.flat()) {
      const target = started[scenario.target]
      if (!target) continue
      console.log(`scenario: ${label}`)
      try {
        let workload = workloads.get(scenario)
        if (!workload) {
          workload = await scenario.setup(target, log)
          workloads.set(scenario, workload)
        }
        const warmUp = await workload.run({
          phase: 'warm-up',
          seconds: warmedUp.has(scenario.target) ? warmUpSeconds : firstWarmUpSeconds,
          connections,
          log,
        })
        warmedUp.add(scenario.target)
        log(`warm-up: ${Math.round(warmUp.reqPerSec)} req/s`)
        const measurement = await workload.run({
          phase: 'measure',
          seconds,
          connections,
          log,
          targetCpuSeconds: () => target.cpuSeconds(),
        })
        log(`measured: ${Math.round(measurement.reqPerSec)} req/s over ${measurement.seconds.toFixed(1)} s`)
        if (measurement.exhaustedAfter !== undefined) {
          log(`note: proof pool ran out after ${measurement.exhaustedAfter.toFixed(1)} s (window shortened)`)
        }
        rows.push({ scenario: label, of: scenario.name, round, measurement })
        if (failureShare(measurement) > MAX_FAILURE_SHARE) {
          problems.push(
            `${label}: ${measurement.failures} of ${measurement.requests} requests failed ` +
              `(status codes ${JSON.stringify(measurement.statusCodes)}); first failure: ` +
              `${measurement.firstFailure ?? 'n/a'}`,
          )
        }
      } catch (error) {
        problems.push(`${label}: ${(error as Error).message}`)
      }
    }
  } finally {
    await Promise.allSettled(running.map((target) => target.stop()))
  }

  console.log('')
  if (rows.length > 0) console.log(formatTable(rows))
  const ratioLines = formatRatios(ratios, rows)
  if (ratioLines.length > 0) console.log(`\n${ratioLines.join('\n')}`)
  if (problems.length > 0) {
    console.error(`\nbench: ${problems.length} problem(s):`)
    for (const problem of problems) console.error(`- ${problem}`)
    return 1
  }
  return 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error('bench: failed:', error)
    process.exitCode = 1
  },
)
