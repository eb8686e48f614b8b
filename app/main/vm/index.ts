// The VM component's surface for the app's main process (tray, settings, boot progress).
export type { BackendKind, PortForward, VmBackend, VmHandle } from './backend.js';
export { backendKindFor, createBackend } from './backends.js';
export { DEFAULT_RESOURCES, defaultStateDir, imageFromDir, vmPaths, type VmConfig, type VmImage, type VmResources } from './config.js';
export type { Diagnosis } from './diagnosis.js';
export { VmManager, type StopResult, type VmState, type VmStatus } from './manager.js';
export { PortPublisher } from './port-publisher.js';
export { vmCommand } from './cli.js';
