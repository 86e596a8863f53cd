// The module an application imports as "tinymqtt/mqtt311": the client API for MQTT 3.1.1, without MQTT 5
// and failover (manifests/mqtt311.json). Bare specifiers only, as in tinymqtt.ts beside it.
export * from "tinymqtt/hosts/moddable/mqtt311";
