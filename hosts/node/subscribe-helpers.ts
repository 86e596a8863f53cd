/**
 * tinymqtt/subscribe on Node: registers the Node host, then Paho's subscribe helpers.
 */
import "./index.js";

export * from "../../src/paho/subscribe-helpers.js";
