#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { type Config, ConfigError, loadConfig } from '../config/config.ts'
import type { Services } from '../domain/services.ts'
import { AppError } from '../errors/app-error.ts'
import { type Command, CommandContext, type CommandGroup, type OptionSpec, UsageError } from './command.ts'
import { accountCommands } from './commands/accounts.ts'
import { appleCommands } from './commands/apple.ts'
import { clientCommands } from './commands/clients.ts'
import { deviceCommands } from './commands/devices.ts'
import { gcCommand } from './commands/gc.ts'
import { keyCommands } from './commands/keys.ts'
import { migrateCommand } from './commands/migrate.ts'
import { resourceCommands } from './commands/resources.ts'
import { tenantCommands } from './commands/tenants.ts'
import { Output } from './output.ts'

const entries: Readonly<Record<string, Command | CommandGroup>> = {
  migrate: migrateCommand,
  tenants: tenantCommands,
  clients: clientCommands,
  resources: resourceCommands,
  devices: deviceCommands,
  accounts: accountCommands,
  keys: keyCommands,
  apple: appleCommands,
  gc: gcCommand,
}

/** Options every command takes. */
const commonOptions: Readonly<Record<string, OptionSpec>> = {
  json: { type: 'boolean', description: 'print JSON (the admin API representation) instead of text' },
  config: { type: 'string', value: 'FILE', description: 'server configuration file (JSON)' },
  help: { type: 'boolean', description: 'show this help' },
}

const intro = `Usage: onramp <command> [<subcommand>] [options]

Manages an Onramp server's data directly through its database (the admin API's operations,
without HTTP). Storage and keys are configured as for the server: ONRAMP_* environment
variables (ONRAMP_DATA_DIR, ONRAMP_DATABASE_URL, ONRAMP_MASTER_KEY, ...) and --config FILE.`

/** Runs one command line; returns the exit code: 0, 1 for a failed operation, 2 for a usage error. */
async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    write(topHelp())
    return name === undefined ? 2 : 0
  }
  const entry = entries[name]
  if (!entry) return usageFailure(`unknown command "${name}"`, 'onramp --help')
  if (!('commands' in entry)) return runCommand(`onramp ${name}`, entry, rest)
  const [subcommand, ...args] = rest
  if (subcommand === undefined || subcommand === '--help' || subcommand === '-h') {
    write(groupHelp(name, entry))
    return subcommand === undefined ? 2 : 0
  }
  const command = entry.commands[subcommand]
  if (!command) return usageFailure(`unknown command "${name} ${subcommand}"`, `onramp ${name} --help`)
  return runCommand(`onramp ${name} ${subcommand}`, command, args)
}

async function runCommand(path: string, command: Command, args: readonly string[]): Promise<number> {
  const options = { ...command.options, ...commonOptions }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: [...args],
      options: Object.fromEntries(
        Object.entries(options).map(([option, spec]) => [
          option,
          { type: spec.type, ...(option === 'help' && { short: 'h' }) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    // Node's message goes on to advice about `--`; its first sentence says what is wrong.
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
      return usageFailure((error as Error).message.replace(/\. .*$/s, ''), `${path} --help`)
    throw error
  }
  const { positionals } = parsed
  // No option is `multiple`, so no value is an array.
  const values = parsed.values as Record<string, string | boolean | undefined>
  if (values.help) {
    write(commandHelp(path, command))
    return 0
  }
  const expected = command.arguments?.length ?? 0
  if (positionals.length !== expected) {
    const message =
      positionals.length < expected
        ? `missing ${command.arguments![positionals.length]}`
        : `unexpected argument "${positionals[expected]}"`
    return usageFailure(message, `${path} --help`)
  }
  const missing = Object.entries(command.options ?? {}).find(
    ([option, spec]) => spec.required && values[option] === undefined,
  )
  if (missing) return usageFailure(`--${missing[0]} is required`, `${path} --help`)

  let config: Config | undefined
  let services: Promise<Services> | undefined
  const loadServerConfig = (): Config => {
    config ??= loadConfig({
      env: process.env,
      argv: typeof values.config === 'string' ? ['--config', values.config] : [],
    })
    return config
  }
  const context = new CommandContext({
    out: new Output({ json: values.json === true, write }),
    positionals,
    values,
    config: loadServerConfig,
    services: () => {
      // Loaded here: the server's modules take a while, and help and usage errors need none of them.
      services ??= import('../runtime.ts').then((runtime) => runtime.openServices(loadServerConfig()))
      return services
    },
  })
  try {
    await command.run(context)
    return 0
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(error.message, `${path} --help`)
    if (error instanceof ConfigError) return failure(oneLine(error.message), 2)
    if (error instanceof AppError) return failure(error.message, 1)
    return failure(`${path.slice('onramp '.length)} failed: ${describe(error)}`, 1)
  } finally {
    const opened = await services?.catch(() => undefined)
    if (opened) await (await import('../runtime.ts')).closeServices(opened)
  }
}

/** "Invalid configuration:\n  a\n  b" → "Invalid configuration: a; b". */
function oneLine(message: string): string {
  const [head = '', ...problems] = message.split('\n').map((line) => line.trim())
  return problems.length === 0 ? head : `${head.replace(/:$/, '')}: ${problems.join('; ')}`
}

/** The error's message; a connection attempt to several addresses fails with an empty one and the reasons inside. */
function describe(error: unknown): string {
  if (error instanceof AggregateError && !error.message) return error.errors.map(describe).join('; ')
  return error instanceof Error ? error.message : String(error)
}

function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
}

function failure(message: string, code: number): number {
  process.stderr.write(`onramp: ${message}\n`)
  return code
}

function usageFailure(message: string, help: string): number {
  return failure(`${message} (see "${help}")`, 2)
}

function topHelp(): string {
  const rows = Object.entries(entries).map(([name, entry]) => [
    'commands' in entry ? `${name} ${Object.keys(entry.commands).join('|')}` : name,
    entry.summary,
  ])
  const width = Math.max(...rows.map(([synopsis]) => synopsis!.length))
  const lines = rows.map(([synopsis, summary]) => `  ${synopsis!.padEnd(width)}  ${summary}`)
  return `${intro}\n\nCommands:\n${lines.join('\n')}\n\nRun "onramp <command> --help" for details. Common options: --json, --config FILE.`
}

function groupHelp(name: string, group: CommandGroup): string {
  const lines = Object.entries(group.commands).map(
    ([subcommand, command]) => `  ${subcommand.padEnd(14)}  ${command.summary}`,
  )
  return `Usage: onramp ${name} <command> [options]\n\n${name}: ${group.summary}\n\nCommands:\n${lines.join('\n')}\n\nRun "onramp ${name} <command> --help" for its options.`
}

function commandHelp(path: string, command: Command): string {
  const options = { ...command.options, ...commonOptions }
  const required = Object.entries(command.options ?? {})
    .filter(([, spec]) => spec.required)
    .map(([option, spec]) => `--${option} ${spec.value ?? ''}`.trim())
  const synopsis = [path, ...(command.arguments ?? []), ...required, '[options]'].join(' ')
  const rows = Object.entries(options).map(([option, spec]) => {
    const flag = `${option === 'help' ? '-h, ' : ''}--${option}${spec.value ? ` ${spec.value}` : ''}`
    return `  ${flag.padEnd(36)}  ${spec.description}${spec.required ? ' (required)' : ''}`
  })
  return `Usage: ${synopsis}\n\n${command.summary}\n\nOptions:\n${rows.join('\n')}`
}

process.exitCode = await main(process.argv.slice(2))
