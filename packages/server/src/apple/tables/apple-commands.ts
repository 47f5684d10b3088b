export interface AppleCommandsTable {
  command_uuid: string
  tenant_id: string
  enrollment_id: string
  request_type: string
  /** JSON of the command dictionary (`{"$data": base64}` for data values). */
  command: string
  status: string
  /** The device's report, as the XML property list it sent. */
  result: string | null
  created_at: number
  sent_at: number | null
  completed_at: number | null
}
