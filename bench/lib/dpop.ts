import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { derToJOSE } from '@onramp/crypto'

export interface DpopKey {
  privateKey: KeyObject
  /** base64url of the protected header, which is identical for every proof made with this key. */
  encodedHeader: string
}

export function createDpopKey(): DpopKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' })
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } }
  return { privateKey, encodedHeader: Buffer.from(JSON.stringify(header)).toString('base64url') }
}

export function createDpopProof(key: DpopKey, htm: string, htu: string): string {
  const payload = {
    jti: randomBytes(16).toString('base64url'),
    htm,
    htu,
    iat: Math.floor(Date.now() / 1000),
  }
  const signingInput = `${key.encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`
  // The key itself and a DER signature, converted: an options object makes node:crypto throw and
  // catch twice to find out what it is, and the IEEE P1363 encoding is slower still.
  const signature = derToJOSE(sign('sha256', Buffer.from(signingInput), key.privateKey), 32)
  return `${signingInput}.${signature.toString('base64url')}`
}

export interface ProofBatchOptions {
  count: number
  htm: string
  htu: string
  /** One proof per key: models many distinct devices instead of one client repeating itself. */
  keyPerProof?: boolean
  /** Key for all proofs when keyPerProof is off (e.g. the key the subject token is bound to). */
  key?: DpopKey
}

const CHUNK = 2_000

/** Pre-generates proofs in chunks so the event loop (child output pipes, signals) keeps running. */
export async function createDpopProofs(options: ProofBatchOptions): Promise<string[]> {
  const shared = options.key ?? createDpopKey()
  const proofs: string[] = new Array(options.count)
  for (let start = 0; start < options.count; start += CHUNK) {
    const end = Math.min(options.count, start + CHUNK)
    for (let i = start; i < end; i++) {
      const key = options.keyPerProof ? createDpopKey() : shared
      proofs[i] = createDpopProof(key, options.htm, options.htu)
    }
    await yieldToEventLoop()
  }
  return proofs
}
