/** Fixed-capacity structures, each allocated once at construction and never grown. */
export { ByteRing, RING_FULL } from "./byte-ring.js";
export { MAX_SPLICES, OutputRing } from "./output-ring.js";
export { NO_PACKET_ID, PacketIdTable } from "./packet-id-table.js";
