// Passkeys at the hosted login: shows the passkey form when the browser has WebAuthn, fetches the
// ceremony's options from the server, runs it and posts the JSON result with the form. Served
// from the server itself (the pages allow `script-src 'self'` and nothing inline).

const toBytes = (base64url) => {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/')
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4))
  return Uint8Array.from(binary, (c) => c.charCodeAt(0))
}

const toBase64url = (buffer) => {
  let binary = ''
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const descriptors = (list) => (list ?? []).map((c) => ({ ...c, id: toBytes(c.id) }))

// The JSON form of a credential (WebAuthn Level 3 `toJSON`) that SimpleWebAuthn reads on the server.
const credentialJSON = (credential, response) => ({
  id: credential.id,
  rawId: toBase64url(credential.rawId),
  type: credential.type,
  authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
  clientExtensionResults: credential.getClientExtensionResults(),
  response: { clientDataJSON: toBase64url(credential.response.clientDataJSON), ...response },
})

async function createPasskey(options) {
  const credential = await navigator.credentials.create({
    publicKey: {
      ...options,
      challenge: toBytes(options.challenge),
      user: { ...options.user, id: toBytes(options.user.id) },
      excludeCredentials: descriptors(options.excludeCredentials),
    },
  })
  const { response } = credential
  return credentialJSON(credential, {
    attestationObject: toBase64url(response.attestationObject),
    transports: response.getTransports?.() ?? [],
  })
}

async function usePasskey(options) {
  const credential = await navigator.credentials.get({
    publicKey: {
      ...options,
      challenge: toBytes(options.challenge),
      allowCredentials: descriptors(options.allowCredentials),
    },
  })
  const { response } = credential
  return credentialJSON(credential, {
    authenticatorData: toBase64url(response.authenticatorData),
    signature: toBase64url(response.signature),
    userHandle: response.userHandle ? toBase64url(response.userHandle) : undefined,
  })
}

function enable(form) {
  const error = form.querySelector('[role="alert"]')
  const button = form.querySelector('button')
  form.hidden = false
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.hidden = true
    button.disabled = true
    try {
      const action = form.elements.action.value
      const body = new URLSearchParams({ csrf_token: form.elements.csrf_token.value, action })
      const email = document.getElementById('email')
      if (email?.value) body.set('name', email.value)
      const answer = await fetch(form.dataset.options, { method: 'POST', body, credentials: 'same-origin' })
      if (!answer.ok) throw new Error('options refused')
      const options = await answer.json()
      const result = action === 'register' ? await createPasskey(options) : await usePasskey(options)
      form.elements.response.value = JSON.stringify(result)
      form.submit()
    } catch (failure) {
      // An authenticator that holds one of the account's passkeys (`excludeCredentials`) makes none.
      error.textContent =
        failure?.name === 'InvalidStateError'
          ? 'This device has a passkey for your account already.'
          : 'The passkey did not work. Try again, or use another way.'
      error.hidden = false
      button.disabled = false
    }
  })
}

if (window.PublicKeyCredential) {
  for (const form of document.querySelectorAll('form.passkey[data-options]')) enable(form)
}
