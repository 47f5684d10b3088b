/** A domain whose users a tenant enrolls: the primary key makes it belong to one tenant only. */
export interface AppleManagedDomainsTable {
  domain: string
  tenant_id: string
}
