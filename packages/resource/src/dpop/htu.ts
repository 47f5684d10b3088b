/**
 * RFC 9449 §4.3: `htu` is compared without query and fragment, after RFC 3986 §6.2.2–6.2.3
 * normalisation (scheme and host case, default port, percent-encoding case). Undefined when the
 * value is not an absolute URL.
 */
export function normalizeHTU(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined
  const url = new URL(value)
  return `${url.protocol}//${url.host}${url.pathname.replace(/%[0-9a-f]{2}/gi, (s) => s.toUpperCase())}`
}
