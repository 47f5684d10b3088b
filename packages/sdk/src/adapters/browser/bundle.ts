// The entry of `dist/onramp-sdk.browser.js`: the whole SDK and its browser adapters in one module,
// for pages that load it without a bundler.
export * from '../../index.ts'
export * from './index.ts'
