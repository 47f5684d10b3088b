/** Markup that is already safe: built by `html`, never from raw input. */
export class SafeHTML {
  readonly value: string
  constructor(value: string) {
    this.value = value
  }
  toString(): string {
    return this.value
  }
}

const escapes: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

export function escapeHTML(text: string): string {
  return text.replace(/[&<>"']/g, (c) => escapes[c]!)
}

/**
 * A template tag for pages: every interpolated value is escaped unless it is `SafeHTML` (the
 * result of another `html`); arrays are joined; `undefined`, `null` and `false` render nothing.
 * Values go into quoted attributes or text, never into scripts or URLs' schemes unchecked.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHTML {
  let out = strings[0]!
  for (const [i, value] of values.entries()) out += render(value) + strings[i + 1]!
  return new SafeHTML(out)
}

function render(value: unknown): string {
  if (value === undefined || value === null || value === false) return ''
  if (value instanceof SafeHTML) return value.value
  if (Array.isArray(value)) return value.map(render).join('')
  return escapeHTML(String(value))
}
