/** Paho's public constants, with Paho's numeric values (shared/API.md). */
export const MQTT_ERR_SUCCESS = 0;
export const MQTT_ERR_NOMEM = 1;
export const MQTT_ERR_PROTOCOL = 2;
export const MQTT_ERR_INVAL = 3;
export const MQTT_ERR_NO_CONN = 4;
export const MQTT_ERR_CONN_REFUSED = 5;
export const MQTT_ERR_NOT_FOUND = 6;
export const MQTT_ERR_CONN_LOST = 7;
export const MQTT_ERR_TLS = 8;
export const MQTT_ERR_PAYLOAD_SIZE = 9;
export const MQTT_ERR_NOT_SUPPORTED = 10;
export const MQTT_ERR_AUTH = 11;
export const MQTT_ERR_ACL_DENIED = 12;
export const MQTT_ERR_UNKNOWN = 13;
export const MQTT_ERR_ERRNO = 14;
export const MQTT_ERR_QUEUE_SIZE = 15;
export const MQTT_ERR_KEEPALIVE = 16;

export const MQTT_LOG_INFO = 1;
export const MQTT_LOG_NOTICE = 2;
export const MQTT_LOG_WARNING = 4;
export const MQTT_LOG_ERR = 8;
export const MQTT_LOG_DEBUG = 16;
