// The module an application imports as "tinymqtt": the client API on the Moddable host, without the flash
// session store ("tinymqtt/moddable" adds it). Bare specifiers only: XS resolves relative ones against this
// module's name, which has no folder.
export * from "tinymqtt/hosts/moddable/client";
