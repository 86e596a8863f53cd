/**
 * tinymqtt/publish on Node: registers the Node host, then Paho's publish helpers.
 */
import "./index.js";

export * from "../../src/paho/publish-helpers.js";
