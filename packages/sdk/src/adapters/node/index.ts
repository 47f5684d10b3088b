export type { FileStorageOptions } from './file-storage.ts'
export { FileStorage } from './file-storage.ts'
export type { BiometricDecision, SimulatedBiometricProviderOptions } from './simulated-biometric-provider.ts'
export { SimulatedBiometricProvider } from './simulated-biometric-provider.ts'
