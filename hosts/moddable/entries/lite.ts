// The module an application imports as "tinymqtt/lite": the smallest client, with the API of Moddable's own
// `mqtt` module plus QoS 1/2, reconnect and sessions (manifests/lite.json). Bare specifiers only, as in
// tinymqtt.ts beside it.
export { default, Client, MODDABLE_LITE_PLATFORM } from "tinymqtt/hosts/moddable/lite";
export type { LiteOptions, LitePublishFlags, LiteWill, LitePlatform, LiteSocket, LiteSocketEvents, LiteTimerTarget } from "tinymqtt/hosts/moddable/lite";
