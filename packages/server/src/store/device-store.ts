import type { AuthenticationMode } from '@onramp/protocol'

export interface Device {
  id: string
  tenantId: string
  profileId: string
  clientId: string
  /** RFC 7638 thumbprint of the device key the enrollment's DPoP proof was signed with. */
  jkt: string
  authenticationMode: AuthenticationMode
  hardwareKey: boolean
  createdAt: number
  lastSeenAt: number
  revokedAt: number | undefined
}

export interface DeviceStore {
  get(tenantId: string, id: string): Promise<Device | undefined>
  list(tenantId: string, options?: { profileId?: string; limit?: number; after?: string }): Promise<Device[]>
  create(device: Device): Promise<void>
  touch(id: string, at: number): Promise<void>
  revoke(tenantId: string, id: string, at: number): Promise<boolean>
  /** The profile's device, not revoked, whose key has this thumbprint. */
  findActive(tenantId: string, profileId: string, jkt: string): Promise<Device | undefined>
  /** Gives the device to another profile of its tenant (a person signed in on it); false if unknown. */
  assign(tenantId: string, id: string, profileId: string): Promise<boolean>
}
