/**
 * tinymqtt/moddable: the client API (./client.ts, also the module "tinymqtt") and the session store on a
 * flash partition. A Moddable app that keeps no session in flash imports "tinymqtt" and so never loads the store.
 */
export * from "./client.js";
export { FlashStore, type FlashLike, type FlashRecovery, type FlashStoreOptions } from "./flash-store.js";
