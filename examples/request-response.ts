/**
 * MQTT 5 request/response (section 4.10): a responder and a requester in one program.
 *
 *   node dist/examples/request-response.js [host] [port] [count]     (or MQTT_HOST, MQTT_PORT)
 *
 * The responder subscribes to a request topic and answers every request on the request's Response Topic,
 * echoing its Correlation Data. The requester asks the broker for Response Information
 * (requestResponseInformation: 1) to root its response topic in, falls back to a root of its own when the
 * broker gives none (mosquitto gives none), makes the topic its own with its (possibly broker-assigned)
 * client id, and subscribes to it. Then it sends `count` requests (default 3), each with its own
 * Correlation Data, and matches every response to its request by that data alone. Both clients disconnect
 * and the program exits; a response that does not come within 5 s ends it with an error.
 */
import { Client, MQTTv5, type MQTTMessage, type Properties } from "tinymqtt";

const host = process.argv[2] ?? process.env["MQTT_HOST"] ?? "localhost";
const port = Number(process.argv[3] ?? process.env["MQTT_PORT"] ?? 1883);
const count = Number(process.argv[4] ?? 3);

const REQUEST_TOPIC = "tinymqtt/example/calc/request";
const RESPONSE_ROOT = "tinymqtt/example/calc/response";
const WAIT_MS = 5000;

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** Resolves with what `start` resolves with, or rejects naming `what` after WAIT_MS. */
function bounded<T>(what: string, start: (resolve: (value: T) => void, reject: (error: Error) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${WAIT_MS} ms`)), WAIT_MS);
    start((value) => {
      clearTimeout(timer);
      resolve(value);
    }, (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Connects with the loop in the background; resolves with the CONNACK's properties. */
async function connect(client: Client, properties?: Properties): Promise<Properties> {
  const connack = bounded<Properties>("CONNACK", (resolve, reject) => {
    client.onConnect = (c, userdata, flags, reasonCode, props) => {
      if (reasonCode === 0) resolve(props);
      else reject(new Error(`connection refused, reason code 0x${reasonCode.toString(16)}`));
    };
  });
  await client.connect(host, port, 60, "", true, properties);
  client.loopStart();
  return connack;
}

/** Subscribes and waits for the SUBACK to grant it. */
function subscribe(client: Client, topic: string): Promise<void> {
  return bounded<void>(`SUBACK for ${topic}`, (resolve, reject) => {
    client.onSubscribe = (c, userdata, mid, reasonCodes) => {
      if (reasonCodes[0]! < 0x80) resolve();
      else reject(new Error(`subscription to ${topic} refused: 0x${reasonCodes[0]!.toString(16)}`));
    };
    client.subscribe(topic, 1);
  });
}

// ---- the responder: "a + b" in, the sum out ----------------------------------------------------

const responder = new Client({ protocol: MQTTv5 });
responder.onMessage = (client: Client, userdata: unknown, message: MQTTMessage) => {
  const props = message.properties ?? {};
  // A request without a Response Topic wants no answer.
  if (props.responseTopic === undefined) return;
  const [a = NaN, b = NaN] = text(message.payload).split("+").map(Number);
  const answer = Number.isFinite(a + b) ? String(a + b) : "error: expected 'a + b'";
  // The Correlation Data goes back unchanged: it is how the requester knows which request this answers.
  // (It is a view into the receive buffer, copied here as anything kept past the callback must be.)
  const reply: Properties = { contentType: "text/plain" };
  if (props.correlationData !== undefined) reply.correlationData = props.correlationData.slice();
  client.publish(props.responseTopic, answer, 1, false, reply);
};
await connect(responder);
await subscribe(responder, REQUEST_TOPIC);

// ---- the requester ------------------------------------------------------------------------------

const requester = new Client({ protocol: MQTTv5 });
const connack = await connect(requester, { requestResponseInformation: 1 });
// An empty client id was sent, so the broker assigned one: unique, and so a fine name for our responses.
const me = connack.assignedClientIdentifier ?? `requester-${Date.now()}`;
const responseTopic = `${connack.responseInformation ?? RESPONSE_ROOT}/${me}`;

/** Requests waiting for their response, by Correlation Data (in hex). */
const waiting = new Map<string, (answer: string) => void>();
requester.onMessage = (client: Client, userdata: unknown, message: MQTTMessage) => {
  const correlation = message.properties?.correlationData;
  const settle = correlation === undefined ? undefined : waiting.get(hex(correlation));
  if (settle === undefined) return; // not an answer to anything we asked
  waiting.delete(hex(correlation!));
  settle(text(message.payload));
};
await subscribe(requester, responseTopic);

for (let i = 1; i <= count; i++) {
  const question = `${i} + ${i * 10}`;
  const correlationData = utf8(`request-${i}-${Math.random().toString(36).slice(2)}`);
  const answer = bounded<string>(`response to request ${i}`, (resolve) => waiting.set(hex(correlationData), resolve));
  requester.publish(REQUEST_TOPIC, question, 1, false, { responseTopic, correlationData, contentType: "text/plain" });
  console.log(`request ${i}: ${question} = ${await answer}`);
}

for (const client of [requester, responder]) {
  client.disconnect();
  client.loopStop();
}
