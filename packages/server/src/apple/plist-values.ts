import { build, type PlistValue, parse, parseBinary } from 'plist'
import { AppError } from '../errors/app-error.ts'

/** A property list dictionary: what Apple devices send and receive. */
export interface PlistDict {
  [key: string]: PlistValue
}

/** The body is not a property list dictionary. */
export class PlistError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PlistError'
  }
}

const maxDepth = 32

/** Parses an XML (or binary) property list whose root is a dictionary. */
export function parsePlistDict(content: Uint8Array): PlistDict {
  let value: PlistValue
  try {
    if (Buffer.from(content.subarray(0, 6)).toString('latin1') === 'bplist') {
      value = parseBinary(content)
    } else {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(content).trim()
      if (!/^(<\?xml|<!DOCTYPE|<plist)/.test(text) || !text.endsWith('</plist>'))
        throw new PlistError('not an XML property list')
      value = withoutConsoleErrors(() => parse(text))
    }
  } catch (error) {
    throw error instanceof PlistError ? error : new PlistError('malformed property list')
  }
  if (!isDict(value)) throw new PlistError('the property list is not a dictionary')
  return value
}

/**
 * The XML parser under `plist` reports malformed documents on `console.error`, quoting them: that
 * would put device-controlled text in the server's output, outside its structured logs. Parsing
 * is synchronous, so muting the console for its duration affects nothing else.
 */
function withoutConsoleErrors<T>(work: () => T): T {
  const error = console.error
  console.error = () => {}
  try {
    return work()
  } finally {
    console.error = error
  }
}

export function buildPlist(dict: PlistDict): string {
  return build(dict)
}

function isDict(value: PlistValue | undefined): value is PlistDict {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array)
  )
}

/** A string value of the dictionary: present, without NUL, at most `maxLength` characters. */
export function plistString(dict: PlistDict, key: string, maxLength = 256): string | undefined {
  const value = dict[key]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength || value.includes('\0'))
    throw new PlistError(`${key} must be a string of 1–${maxLength} characters`)
  return value
}

export function plistData(dict: PlistDict, key: string): Uint8Array | undefined {
  const value = dict[key]
  if (value === undefined) return undefined
  if (!(value instanceof Uint8Array)) throw new PlistError(`${key} must be data`)
  return value
}

/**
 * A JSON value from the admin API as a property list dictionary: strings, numbers (whole ones
 * become `<integer>`), booleans, arrays, objects, and `{"$data": "<base64>"}` for `<data>`.
 */
export function toPlistDict(json: unknown, name: string): PlistDict {
  const value = toPlistValue(json, name, 0)
  if (!isDict(value)) throw new AppError('invalid_input', `${name} must be an object`)
  return value
}

function toPlistValue(json: unknown, path: string, depth: number): PlistValue {
  if (depth > maxDepth) throw new AppError('invalid_input', `${path} is nested too deeply`)
  if (typeof json === 'string') {
    if (json.includes('\0')) throw new AppError('invalid_input', `${path} must not contain NUL`)
    return json
  }
  if (typeof json === 'boolean') return json
  if (typeof json === 'number') {
    if (!Number.isFinite(json)) throw new AppError('invalid_input', `${path} must be a finite number`)
    return json
  }
  if (Array.isArray(json)) return json.map((item, i) => toPlistValue(item, `${path}[${i}]`, depth + 1))
  if (typeof json === 'object' && json !== null) {
    const entries = Object.entries(json)
    if (entries.length === 1 && entries[0]![0] === '$data') {
      const data = entries[0]![1]
      if (typeof data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(data))
        throw new AppError('invalid_input', `${path}.$data must be Base64`)
      return Buffer.from(data, 'base64')
    }
    const dict: PlistDict = {}
    for (const [key, value] of entries) dict[key] = toPlistValue(value, `${path}.${key}`, depth + 1)
    return dict
  }
  throw new AppError('invalid_input', `${path} must be a string, number, boolean, array or object`)
}

/** The inverse of `toPlistDict`, for showing stored dictionaries and device reports as JSON. */
export function plistToJSON(value: PlistValue): unknown {
  if (value instanceof Uint8Array) return { $data: Buffer.from(value).toString('base64') }
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map(plistToJSON)
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plistToJSON(item)]))
  return value
}
