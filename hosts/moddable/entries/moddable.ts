// The module an application imports as "tinymqtt/moddable": "tinymqtt" and the flash session store. Its own
// file, because mcconfig makes one module per source file: two names on one file leave the second unresolved.
export * from "tinymqtt/hosts/moddable/index";
