import { devicePageSize } from '../../domain/device-manager.ts'
import { defined } from '../../http/admin/defined.ts'
import { devicePageView, deviceView } from '../../http/admin/views.ts'
import type { Device } from '../../store/device-store.ts'
import { type CommandGroup, tenantOption, tenantServices } from '../command.ts'
import { details, table, time } from '../output.ts'

const deviceOption = { type: 'string', value: 'ID', description: 'device id', required: true } as const

export const deviceCommands: CommandGroup = {
  summary: 'enrolled devices, and revoking them',
  commands: {
    list: {
      summary: "list a tenant's devices, a page at a time (id order)",
      options: {
        tenant: tenantOption,
        'profile-id': { type: 'string', value: 'ID', description: "only this profile's devices" },
        limit: {
          type: 'string',
          value: 'N',
          description: `page size, at most ${devicePageSize.max} (default ${devicePageSize.default})`,
        },
        after: {
          type: 'string',
          value: 'ID',
          description: 'start after this device id (the previous page\'s "next")',
        },
      },
      async run(context) {
        const options = defined({
          limit: context.count('limit'),
          profileId: context.option('profile-id'),
          after: context.option('after'),
        })
        const { services, tenant } = await tenantServices(context)
        const page = await services.devices.page(tenant, options)
        context.out.result(devicePageView(page), () => {
          if (page.devices.length === 0) return `No devices in tenant "${tenant}".`
          const rows = table(page.devices, [
            { header: 'DEVICE_ID', value: (d) => d.id },
            { header: 'PROFILE_ID', value: (d) => d.profileId },
            { header: 'CLIENT_ID', value: (d) => d.clientId },
            { header: 'MODE', value: (d) => d.authenticationMode },
            { header: 'LAST_SEEN', value: (d) => time(d.lastSeenAt) },
            { header: 'REVOKED', value: (d) => time(d.revokedAt) },
          ])
          return page.next === undefined ? rows : `${rows}\n\nMore devices: add --after ${page.next}`
        })
      },
    },
    show: {
      summary: 'show one device',
      options: { tenant: tenantOption, device: deviceOption },
      async run(context) {
        const device = await (await context.services()).devices.get(
          context.required('tenant'),
          context.required('device'),
        )
        context.out.result(deviceView(device), () => describeDevice(device))
      },
    },
    revoke: {
      summary: 'revoke a device and every grant (and so every token) issued to it',
      options: { tenant: tenantOption, device: deviceOption },
      async run(context) {
        const deviceId = context.required('device')
        const { grantsRevoked } = await (await context.services()).devices.revoke(
          context.required('tenant'),
          deviceId,
        )
        context.out.result(
          { device_id: deviceId, grants_revoked: grantsRevoked },
          () =>
            `Revoked device "${deviceId}" and ${grantsRevoked} active grant${grantsRevoked === 1 ? '' : 's'}.`,
        )
      },
    },
  },
}

function describeDevice(device: Device): string {
  return details({
    'device id': device.id,
    'profile id': device.profileId,
    'client id': device.clientId,
    'key thumbprint': device.jkt,
    'authentication mode': device.authenticationMode,
    'hardware key': String(device.hardwareKey),
    created: time(device.createdAt),
    'last seen': time(device.lastSeenAt),
    revoked: device.revokedAt === undefined ? undefined : time(device.revokedAt),
  })
}
