import type { FieldError } from '../../login/authentication-method.ts'
import type { LoginScreen } from '../../login/login-state.ts'
import { html, type SafeHTML } from './html.ts'

/** What every page shows around its content. */
export interface PageFrame {
  /** The tenant's display name, when the tenant is known. */
  tenantName: string | undefined
  /** Absolute URL of the stylesheet (none on the error page of an unknown tenant). */
  stylesheet: string | undefined
  /** Absolute URL of the page's script, if it has one (the login forms: passkeys). */
  script?: string | undefined
}

export interface LoginFormModel {
  frame: PageFrame
  screen: LoginScreen
  clientName: string
  /** The issuer URL: forms post to `{issuer}/login/…`. */
  issuer: string
  csrfToken: string
  email: string | undefined
  /** A message about the whole form (wrong credentials, lockout). */
  formError: string | undefined
  fieldErrors: readonly FieldError[]
  /** The tenant's upstream OpenID Connect providers, by name: one button each. */
  upstreamProviders: readonly string[]
}

export function loginPage(model: LoginFormModel): string {
  const signUp = model.screen === 'sign_up'
  const title = signUp ? 'Create an account' : 'Sign in'
  const errors = new Map(model.fieldErrors.map((e) => [e.field, e.message]))
  const hasErrors = model.formError !== undefined || errors.size > 0
  // The first field with an error gets the focus, else the first field: keyboard users start there.
  const focus = errors.has('email') || !errors.has('password') ? 'email' : 'password'
  const action = `${model.issuer}/login/${signUp ? 'sign-up' : 'sign-in'}`
  const content = html`
    <h1>${title}</h1>
    <p class="lead">to continue to <strong>${model.clientName}</strong></p>
    ${hasErrors && errorSummary(model.formError, model.fieldErrors)}
    <form method="post" action="${action}" novalidate${hasErrors && html` aria-describedby="form-error"`}>
      <input type="hidden" name="csrf_token" value="${model.csrfToken}">
      ${field({
        name: 'email',
        label: 'Email address',
        type: 'email',
        autocomplete: 'username',
        value: model.email,
        error: errors.get('email'),
        autofocus: focus === 'email',
      })}
      ${field({
        name: 'password',
        label: 'Password',
        type: 'password',
        autocomplete: signUp ? 'new-password' : 'current-password',
        hint: signUp ? 'At least 8 characters. A few words together make a strong password.' : undefined,
        error: errors.get('password'),
        autofocus: focus === 'password',
      })}
      <button type="submit">${signUp ? 'Create account' : 'Sign in'}</button>
    </form>
    ${passkeyForm(model)}
    ${model.upstreamProviders.length > 0 && upstreamButtons(model)}
    <p>${
      signUp
        ? html`Already have an account? <a href="${model.issuer}/login/sign-in">Sign in</a>`
        : html`New here? <a href="${model.issuer}/login/sign-up">Create an account</a>`
    }</p>
    <form method="post" action="${model.issuer}/login/cancel" class="cancel">
      <input type="hidden" name="csrf_token" value="${model.csrfToken}">
      <button type="submit" class="secondary">Cancel and go back to ${model.clientName}</button>
    </form>`
  const frame = { ...model.frame, script: `${model.issuer}/login/assets/passkey.js` }
  return page(frame, hasErrors ? `Error: ${title}` : title, content)
}

/**
 * The passkey button. Hidden until the script shows it (passkeys need the script and WebAuthn):
 * the script fetches the options from `data-options`, runs the ceremony and posts its JSON
 * result with the form, so the CSRF token and the redirects work as for the other forms.
 */
function passkeyForm(model: LoginFormModel): SafeHTML {
  const action = model.screen === 'sign_up' ? 'register' : 'sign_in'
  return html`
    <form method="post" action="${model.issuer}/login/passkey" class="passkey" data-options="${model.issuer}/login/passkey/options" hidden>
      <p class="divider">or</p>
      <input type="hidden" name="csrf_token" value="${model.csrfToken}">
      <input type="hidden" name="action" value="${action}">
      <input type="hidden" name="response" value="">
      <button type="submit" class="secondary">${action === 'register' ? 'Create an account with a passkey' : 'Sign in with a passkey'}</button>
      <p class="field-error" role="alert" hidden></p>
    </form>`
}

/** One form per provider, each a single button: a form post carries the CSRF token, no script needed. */
function upstreamButtons(model: LoginFormModel): SafeHTML {
  return html`
    <div class="upstream" role="group" aria-label="Other ways to sign in">
      <p class="divider">or</p>
      ${model.upstreamProviders.map(
        (name) => html`
      <form method="post" action="${model.issuer}/login/upstream/${name}">
        <input type="hidden" name="csrf_token" value="${model.csrfToken}">
        <button type="submit" class="secondary">Continue with ${name}</button>
      </form>`,
      )}
    </div>`
}

export interface PasskeyOfferModel {
  frame: PageFrame
  clientName: string
  issuer: string
  csrfToken: string
  /** The client asked for another passkey (`onramp_action=add_passkey`), not the tenant's offer. */
  requested: boolean
  /** Why the last attempt did not add the passkey. */
  formError: string | undefined
}

/**
 * After signing in another way: the offer to add a passkey to the account. The passkey form is
 * shown by the script when the browser has WebAuthn (as on the sign-in page); declining is a plain
 * form, so the page works without either.
 */
export function passkeyOfferPage(model: PasskeyOfferModel): string {
  const title = model.requested ? 'Add a passkey' : 'Sign in faster next time'
  const content = html`
    <h1>${title}</h1>
    <p class="lead">You are signed in to continue to <strong>${model.clientName}</strong>.</p>
    ${model.formError !== undefined && errorSummary(model.formError, [])}
    <form method="post" action="${model.issuer}/login/passkey-offer" class="passkey" data-options="${model.issuer}/login/passkey-offer/options" hidden>
      <p>${
        model.requested
          ? "Add a passkey on this device to your account: sign in with your fingerprint, your face or your device's screen lock. A device that has one of your passkeys already will not make another."
          : "Add a passkey to your account: next time, sign in with your fingerprint, your face or your device's screen lock instead of a password."
      }</p>
      ${field({
        name: 'passkey_name',
        label: 'Name this passkey (optional)',
        type: 'text',
        autocomplete: 'off',
        hint: 'To tell it from your others later, for example "Work laptop".',
        error: undefined,
        autofocus: false,
        optional: { maxLength: 64 },
      })}
      <input type="hidden" name="csrf_token" value="${model.csrfToken}">
      <input type="hidden" name="action" value="register">
      <input type="hidden" name="response" value="">
      <button type="submit">Add a passkey</button>
      <p class="field-error" role="alert" hidden></p>
    </form>
    <form method="post" action="${model.issuer}/login/passkey-offer/decline" class="cancel">
      <input type="hidden" name="csrf_token" value="${model.csrfToken}">
      <button type="submit" class="secondary">Continue without a passkey</button>
    </form>`
  const frame = { ...model.frame, script: `${model.issuer}/login/assets/passkey.js` }
  return page(frame, model.formError !== undefined ? `Error: ${title}` : title, content)
}

export function errorPage(frame: PageFrame, error: { title: string; message: string }): string {
  return page(
    frame,
    error.title,
    html`
    <h1>${error.title}</h1>
    <p>${error.message}</p>`,
  )
}

function errorSummary(formError: string | undefined, fieldErrors: readonly FieldError[]): SafeHTML {
  return html`
    <div class="alert" id="form-error" role="alert">
      <h2>There is a problem</h2>
      ${formError !== undefined && html`<p>${formError}</p>`}
      ${fieldErrors.map((e) => html`<p><a href="#${e.field}">${e.message}</a></p>`)}
    </div>`
}

function field(options: {
  name: string
  label: string
  type: 'email' | 'password' | 'text'
  autocomplete: string
  value?: string | undefined
  hint?: string | undefined
  error: string | undefined
  autofocus: boolean
  /** An optional field: not `required`, at most this many characters. */
  optional?: { maxLength: number }
}): SafeHTML {
  const { name, error, hint } = options
  const describedBy = [hint && `${name}-hint`, error && `${name}-error`].filter(Boolean).join(' ')
  return html`
      <div class="field">
        <label for="${name}">${options.label}</label>
        ${hint && html`<p class="hint" id="${name}-hint">${hint}</p>`}
        ${error && html`<p class="field-error" id="${name}-error"><span class="visually-hidden">Error:</span> ${error}</p>`}
        <input id="${name}" name="${name}" type="${options.type}" autocomplete="${options.autocomplete}"${
          options.optional ? html` maxlength="${String(options.optional.maxLength)}"` : html` required`
        }${
          options.type === 'email' && html` spellcheck="false" autocapitalize="none"`
        }${options.value !== undefined && html` value="${options.value}"`}${
          describedBy && html` aria-describedby="${describedBy}"`
        }${error && html` aria-invalid="true"`}${options.autofocus && html` autofocus`}>
      </div>`
}

function page(frame: PageFrame, title: string, content: SafeHTML): string {
  const fullTitle = frame.tenantName ? `${title} – ${frame.tenantName}` : title
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${fullTitle}</title>
${frame.stylesheet && html`<link rel="stylesheet" href="${frame.stylesheet}">`}
${frame.script && html`<script src="${frame.script}" defer></script>`}
</head>
<body>
<main>
  ${frame.tenantName && html`<p class="brand">${frame.tenantName}</p>`}${content}
</main>
</body>
</html>
`.value
}
