// The module an application imports as "tinymqtt" (and "tinymqtt/moddable"): the Moddable host's entry.
// Bare specifiers only: XS resolves relative ones against this module's name, which has no folder.
export * from "tinymqtt/hosts/moddable/index";
