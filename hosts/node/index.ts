/**
 * tinymqtt/node: the Node host, registered as the default host, and the whole client API with it.
 */
import { setDefaultHost } from "../../src/connection/host.js";
import { nodeHost } from "./host.js";

setDefaultHost(nodeHost);

export { NodeHost, nodeHost, type SrvTarget } from "./host.js";
export { FileStore, type FileStoreOptions, type Recovery } from "./file-store.js";
export * from "../../src/index.js";
