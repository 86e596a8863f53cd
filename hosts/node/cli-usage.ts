/**
 * What `tinymqtt --help`, `tinymqtt pub --help` and `tinymqtt sub --help` print. pub's and sub's follow
 * mosquitto_pub's and mosquitto_sub's layout (what the command does, the usage lines, then each flag),
 * listing the flags we take; our own additions are marked as such.
 */
import { readFileSync } from "node:fs";

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

export const USAGE = `Usage: tinymqtt <command> [options]

Commands:
  pub    publish one message, or one per line of stdin (mosquitto_pub's flags: tinymqtt pub --help)
  sub    subscribe and print the messages received (mosquitto_sub's flags: tinymqtt sub --help)
  demo   a publish/subscribe round trip at QoS 0, 1 and 2, with round-trip times
  simulate  many simulated sensors in this process against one broker: telemetry, link cuts, a checker

tinymqtt pub -t topic {-m message | -f file | -s | -l | -n} [options]    (tinymqtt pub --help)
tinymqtt sub -t topic [-t topic ...] [options]                          (tinymqtt sub --help)
tinymqtt demo [--broker mqtt://host:port]
tinymqtt simulate --devices N --rate R --duration S [--broker mqtt://host:port] [--qos Q] [--cut-rate C]
             [--report file.html] [--connect-batch B] [--keepalive K] [--workers [N]] [--share]
             [--username U --password P]
tinymqtt simulate --shard K/N --run RUN-ID --broker URL --devices N --rate R --duration S [--interval I] [...]
tinymqtt simulate --collect RUN-ID --broker URL [--report file.html] [--wait S]
tinymqtt --help

 --broker : demo, simulate: the broker URL (mqtt://host:port); without it an in-process broker is started.

simulate: each device is a full client with the ESP32 budget and a will, publishing R messages per second
at QoS Q (default 0) for S seconds, while links are cut at random (C cuts per second across all devices,
default N/50, at least 0.5; 0 for none) and devices reconnect by themselves. A checker subscriber counts
lost and duplicated messages per device from sequence numbers. It prints a live progress line, then a
summary, and writes an HTML report (--report, default tinymqtt-simulate-report.html; "" for none).
Exit code 0; 2 when QoS 1/2 lost a message (or QoS 2 duplicated one); 1 for errors.
--workers N splits the fleet over N processes of this machine (N defaults to the number of cores), each
with its own checker; one live line and one summary for the whole fleet, with each worker's share.
--shard K/N runs slice K (from 0) of N of the fleet and publishes its reports to the broker, retained under
tinymqtt/sim/RUN-ID/ (every --interval seconds, default 5, and at its end); --collect RUN-ID gathers them
into one summary and report (waiting at most --wait seconds, default 3600), a shard that died included.
--broker URL,URL,... runs against a cluster's nodes: devices spread over them with failover, a checker
client on each (--share: in a $share group); the losses are split into the client's and the cluster's.
`;

/** The flags pub and sub share, in mosquitto's order (after the command's own flags). */
const SHARED_TAIL = ` --help : display this message.
 --quiet : don't print error messages.
 --will-payload : payload for the client Will, which the broker sends if the connection is lost
                  without a DISCONNECT. A zero length message when --will-topic is given without it.
 --will-qos : QoS level for the client Will.
 --will-retain : make the client Will retained.
 --will-topic : the topic on which to publish the client Will.
 --cafile : a file of trusted CA certificates (PEM): connect over TLS.
 --capath : a folder of trusted CA certificates: connect over TLS.
 --cert : the client certificate, if the broker asks for one.
 --key : the client's private key, with --cert.
 --tls-version : the lowest TLS version to accept: tlsv1.3, tlsv1.2 or tlsv1.1.
 --tls-alpn : the TLS ALPN protocol to offer (for brokers sharing port 443 with other services).
 --insecure : do not check that the broker certificate's host name matches the host connected to.
              Anyone in the middle can then pose as the broker: never use this in production.
 --tls-use-os-certs : trust the system's CA certificates, as OpenSSL finds them (the file
                      SSL_CERT_FILE names or the system bundle, and SSL_CERT_DIR's folders).
 --max-packet-size : (tinymqtt) raise the client's budget to receive messages of up to this many
                     bytes (the default budget is a small device's; any size can be sent).
`;

/** The end of pub's and sub's synopsis lines: the will, TLS, budget and property options both take. */
const SYNOPSIS_TAIL = `                    [--will-topic [--will-payload payload] [--will-qos qos] [--will-retain]]
                    [{--cafile file | --capath dir} [--cert file] [--key file]
                      [--insecure] [--tls-version version]
                      [--tls-alpn protocol]
                      [--tls-use-os-certs]]
                    [--max-packet-size bytes]
                    [-D command identifier value]`;

const CONNECTION_FLAGS = ` -A : bind the outgoing socket to this host/ip address, to choose the interface the client
      communicates over.
 -c : disable clean session (a persistent session): the broker keeps the session of this client id
      when it disconnects, and, on MQTT v5, the session never expires unless -x says otherwise.
 -d : enable debug messages: each packet sent and received, on stdout.
 -D : define an MQTT v5 property: -D command identifier value, or -D command user-property key value.
      command: connect, publish, subscribe, unsubscribe, disconnect or will; identifier: the property's
      name in lower case with dashes (message-expiry-interval, content-type...). -D implies -V mqttv5.`;

const HOST_FLAGS = ` -h : mqtt host to connect to. Defaults to localhost.
 -i : id to use for this client. Defaults to an id the broker assigns (a generated one on MQTT v3.1).
 -k : keep alive in seconds for this client. Defaults to 60.
 -L : user, password, host, port and topic as a URL in the form:
      mqtt(s)://[username[:password]@]host[:port]/topic, or ws(s)://... for MQTT over WebSockets.`;

const VERSION_FLAGS = ` -V : the version of the MQTT protocol to use: mqttv5, mqttv311 or mqttv31. Defaults to mqttv311.
 -x : the session-expiry-interval property of CONNECT (MQTT v5 only): 0-4294967294 seconds, or -1
      for a session that never expires. Defaults to -1 with -c, else 0.`;

export function pubUsage(): string {
  return `tinymqtt pub publishes a message on a single topic and exits, taking mosquitto_pub's flags.
tinymqtt version ${version()}.

Usage: tinymqtt pub {[-h host] [-p port] [-u username] [-P password] -t topic | -L URL}
                    {-f file | -l | -n | -m message | -s}
                    [-c] [-k keepalive] [-q qos] [-r] [-x session-expiry]
                    [-A bind_address]
                    [-i id]
                    [-d] [--quiet]
                    [-u username [-P password]]
${SYNOPSIS_TAIL}
       tinymqtt pub --help

${CONNECTION_FLAGS}
 -f : send the contents of a file as the message.
${HOST_FLAGS}
 -l : read messages from stdin, sending a separate message for each line.
 -m : message payload to send.
 -n : send a null (zero length) message.
 -p : network port to connect to. Defaults to 1883 for plain MQTT and 8883 for MQTT over TLS.
 -P : provide a password
 -q : quality of service level to use for all messages. Defaults to 0.
 -r : message should be retained.
 -s : read message from stdin, sending the entire input as a message.
 -t : mqtt topic to publish to.
 -u : provide a username
${VERSION_FLAGS}
${SHARED_TAIL}`;
}

export function subUsage(): string {
  return `tinymqtt sub subscribes to a set of topics and prints the messages it receives, taking mosquitto_sub's flags.
tinymqtt version ${version()}.

Usage: tinymqtt sub {[-h host] [-p port] [-u username] [-P password] -t topic | -L URL [-t topic]}
                    [-c] [-k keepalive] [-q qos] [-x session-expiry-interval]
                    [-C msg_count] [-E] [-R] [--retained-only] [--remove-retained] [-T filter_out] [-U topic ...]
                    [-F format]
                    [-W timeout_secs]
                    [-A bind_address]
                    [-i id]
                    [-d] [-N] [--quiet] [-v]
${SYNOPSIS_TAIL}
       tinymqtt sub --help

${CONNECTION_FLAGS}
 -C : disconnect and exit after receiving the 'msg_count' messages.
 -E : exit once all subscriptions have been acknowledged by the broker.
 -F : output format: %t topic, %p payload, %q qos, %r retain flag, %l payload length, %m message id,
      %x / %X payload in hex, %% a percent sign; MQTT v5 properties: %A topic alias, %C content type,
      %D correlation data, %E message expiry interval, %F payload format indicator, %P user properties,
      %R response topic, %S subscription identifier; \\n newline, \\t tab, \\\\ backslash, \\0 a null byte.
${HOST_FLAGS}
 -N : do not add an end of line character when printing the payload.
 -p : network port to connect to. Defaults to 1883 for plain MQTT and 8883 for MQTT over TLS.
 -P : provide a password
 -q : quality of service level to use for the subscription. Defaults to 0.
 -R : do not print stale messages (those with retain set).
 -t : mqtt topic to subscribe to. May be repeated multiple times.
 -T : topic string to filter out of results. May be repeated.
 -u : provide a username
 -U : unsubscribe from a topic. May be repeated.
 -v : print published messages verbosely ("topic payload").
${VERSION_FLAGS}
 -W : a timeout in seconds: disconnect and exit (code 27) after this long.
 --retained-only : only handle messages with the retained flag set, and exit when the
                   first non-retained message is received.
 --remove-retained : clear each retained message received (a null retained message to its topic).
                     Use -T to filter out messages you do not want to be cleared.
${SHARED_TAIL}`;
}
