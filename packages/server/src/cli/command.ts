import type { Config } from '../config/config.ts'
import type { Services } from '../domain/services.ts'
import type { Output } from './output.ts'

/** A mistake on the command line: reported with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean'
  description: string
  /** The value's placeholder in help, e.g. `ID`. */
  value?: string
  required?: boolean
}

export interface Command {
  summary: string
  /** Positional arguments, in order, as help shows them (e.g. `<id>`); each one is required. */
  arguments?: readonly string[]
  options?: Readonly<Record<string, OptionSpec>>
  run(context: CommandContext): Promise<void>
}

export interface CommandGroup {
  summary: string
  commands: Readonly<Record<string, Command>>
}

/** What a command gets: its parsed arguments, the output, and the services (opened on first use). */
export class CommandContext {
  readonly out: Output
  readonly #positionals: readonly string[]
  readonly #values: Readonly<Record<string, string | boolean | undefined>>
  readonly #config: () => Config
  readonly #services: () => Promise<Services>

  constructor(options: {
    out: Output
    positionals: readonly string[]
    values: Readonly<Record<string, string | boolean | undefined>>
    config: () => Config
    services: () => Promise<Services>
  }) {
    this.out = options.out
    this.#positionals = options.positionals
    this.#values = options.values
    this.#config = options.config
    this.#services = options.services
  }

  config(): Config {
    return this.#config()
  }

  services(): Promise<Services> {
    return this.#services()
  }

  argument(index: number): string {
    return this.#positionals[index]!
  }

  /** A string option; the dispatcher has already checked that required ones are there. */
  option(name: string): string | undefined {
    const value = this.#values[name]
    return typeof value === 'string' ? value : undefined
  }

  required(name: string): string {
    const value = this.option(name)
    if (value === undefined) throw new UsageError(`--${name} is required`)
    return value
  }

  flag(name: string): boolean {
    return this.#values[name] === true
  }

  /** A comma-separated option as a list (`--scopes a,b`); an empty value gives an empty list. */
  list(name: string): string[] | undefined {
    return this.option(name)
      ?.split(',')
      .map((item) => item.trim())
      .filter(Boolean)
  }

  /** A whole number ≥ 1. */
  count(name: string): number | undefined {
    const value = this.option(name)
    if (value === undefined) return undefined
    if (!/^[0-9]+$/.test(value) || Number(value) < 1)
      throw new UsageError(`--${name} must be a whole number of at least 1`)
    return Number(value)
  }
}

/** `--tenant`, which every command below a tenant needs. */
export const tenantOption: OptionSpec = {
  type: 'string',
  value: 'TENANT',
  description: 'tenant id',
  required: true,
}

/**
 * The services and `--tenant` of a command below a tenant. Fails with `not_found` unless the
 * tenant exists, so listing an unknown tenant is an error, not an empty list.
 */
export async function tenantServices(
  context: CommandContext,
): Promise<{ services: Services; tenant: string }> {
  const services = await context.services()
  const tenant = context.required('tenant')
  await services.tenants.get(tenant)
  return { services, tenant }
}
