import type { DeviceKey, KeyStore } from './key-store.ts'
import type { JsonObject } from './storage.ts'

const algorithm: EcKeyImportParams = { name: 'ECDSA', namedCurve: 'P-256' }

/**
 * Device keys in software, with WebCrypto only (Node, React Native, workers): the private JWK is
 * the key's record, so the SDK seals it with the enrollment's secrets under the authentication
 * mode's key and it never reaches storage in the clear (except in mode `no`). In memory the
 * private key is non-extractable.
 */
export class SoftwareKeyStore implements KeyStore {
  readonly isHardwareBacked = false

  async createKey(): Promise<DeviceKey> {
    const generated = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])
    const jwk = await crypto.subtle.exportKey('jwk', generated.privateKey)
    const record: JsonObject = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d }
    return { keyPair: await importKeyPair(record), record }
  }

  async openKey(record: JsonObject): Promise<CryptoKeyPair | undefined> {
    if (record.kty !== 'EC' || record.crv !== 'P-256' || typeof record.d !== 'string') return undefined
    return importKeyPair(record)
  }

  async deleteKeys(): Promise<void> {
    // The key exists only in its record, which goes with the enrollment.
  }
}

async function importKeyPair(record: JsonObject): Promise<CryptoKeyPair> {
  const { kty, crv, x, y, d } = record as Record<string, string>
  return {
    privateKey: await crypto.subtle.importKey('jwk', { kty, crv, x, y, d }, algorithm, false, ['sign']),
    publicKey: await crypto.subtle.importKey('jwk', { kty, crv, x, y }, algorithm, true, ['verify']),
  }
}
