// The module an application imports as "tinymqtt/session-partition" on lin (manifests/moddable.json): lin has
// no `flash` module, so the partition is a file under the `file` module's root (/tmp/) that behaves as flash
// (FilePartition). The same app code keeps its session in a real partition on a device. Bare specifiers only,
// as in tinymqtt.ts beside it.
import config from "mc/config";
import type { FlashLike } from "tinymqtt/hosts/moddable/flash-store";
import { FilePartition } from "tinymqtt/hosts/moddable/file-partition";

/** The partition `name`: the file <file root>tinymqtt-<name>.partition, 16 KiB in 4 KiB blocks. */
export function sessionPartition(name: string): FlashLike {
  return new FilePartition({ path: `${config.file.root}tinymqtt-${name}.partition` });
}
