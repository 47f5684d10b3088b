// Prints an RFC 9449 DPoP proof for METHOD URL [ACCESS_TOKEN], signed with a P-256 key kept in
// ./.dpop-key.json (created on first use), so curl examples can act as one device:
//   node scripts/dpop-proof.ts POST http://localhost:8080/t/demo/token
import { createHash, createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const [method, url, accessToken] = process.argv.slice(2)
if (!method || !url) {
  console.error('usage: node scripts/dpop-proof.ts METHOD URL [ACCESS_TOKEN]')
  process.exit(2)
}
const keyFile = process.env.DPOP_KEY_FILE ?? '.dpop-key.json'
if (!existsSync(keyFile)) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  writeFileSync(keyFile, JSON.stringify(privateKey.export({ format: 'jwk' })), { mode: 0o600 })
}
const privateJWK = JSON.parse(readFileSync(keyFile, 'utf8'))
const key = createPrivateKey({ key: privateJWK, format: 'jwk' })
const { kty, crv, x, y } = privateJWK
const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const input = `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } })}.${b64({
  jti: randomUUID(),
  htm: method.toUpperCase(),
  htu: url,
  iat: Math.floor(Date.now() / 1000),
  ...(accessToken && { ath: createHash('sha256').update(accessToken).digest('base64url') }),
})}`
const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
console.log(`${input}.${signature.toString('base64url')}`)
