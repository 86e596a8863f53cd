// The module the manifest installs as "embedded:network/mqtt/client" (ECMA-419). Bare specifiers only,
// as in tinymqtt.ts beside it.
export { default } from "tinymqtt/hosts/moddable/ecma419-client";
