/**
 * TLS over node:tls (hosts/node/tcp-link.ts) against a real mosquitto with a test CA made by openssl at test
 * time (test/support/tls.ts): verification on by default, a wrong CA, a host-name mismatch (and
 * tlsInsecureSet, which turns off that check alone), an expired certificate, mutual TLS, the minimum TLS
 * version, ciphers, tlsSetContext, certReqs false; SNI and ALPN as a node:tls server sees them; a refused
 * connection reported in one clear line; bindAddress seen by the broker.
 *
 * One mosquitto serves every listener (each on its own free loopback port). Every wait is bounded.
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type AddressInfo } from "node:net";
import tls from "node:tls";
import {
  Client, MQTTv311, MQTTv5, MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, MQTT_ERR_TLS, MqttConnectionError, type MQTTMessage,
  type TlsOptions,
} from "../../hosts/node/index.js";
import { type Broker, freePort, startMosquitto } from "../support/mosquitto.js";
import { type TestPki, makeTestPki, tlsListener } from "../support/tls.js";
import { sleep, within } from "../support/wait.js";

const HOST = "127.0.0.1";

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

type Setup = (c: Client) => void;

const live: Client[] = [];

afterEach(async () => {
  for (const c of live.splice(0)) {
    c.disconnect();
    c.loopStop();
  }
  await sleep(20);
});

function newClient(setup: Setup, protocol: 4 | 5 = MQTTv311): Client {
  const c = new Client({ protocol });
  setup(c);
  live.push(c);
  return c;
}

/** Connects (loopStart) and resolves once CONNACK accepted the connection. */
async function online(host: string, port: number, setup: Setup, options: { bindAddress?: string; protocol?: 4 | 5 } = {}): Promise<Client> {
  const c = newClient(setup, options.protocol);
  const logs: string[] = [];
  c.onLog = (_c, _u, _l, m) => logs.push(m);
  const connected = new Promise<number>((resolve, reject) => {
    c.onConnect = (_c, _u, _f, rc) => resolve(rc);
    c.onConnectFail = () => reject(new Error(`onConnectFail: ${logs.join(" | ")}`));
  });
  await within(c.connect(host, port, 30, options.bindAddress ?? ""), 10_000, "connect()");
  c.loopStart();
  assert.equal(await within(connected, 10_000, "CONNACK"), 0);
  return c;
}

/**
 * The first connection attempt's failure, as loopForever() reports it: a TLS failure found during the
 * handshake or (TLS 1.3, the server checking our certificate) just after it both end here.
 */
async function failure(host: string, port: number, setup: Setup): Promise<MqttConnectionError> {
  const c = newClient(setup);
  let connected = false;
  c.onConnect = () => {
    connected = true;
  };
  c.connectAsync(host, port, 30);
  const error = await within(c.loopForever().then(() => null, (e: unknown) => e), 10_000, "loopForever() to reject");
  assert.equal(connected, false, "no CONNACK may accept a failed TLS connection");
  assert.ok(error instanceof MqttConnectionError, `expected an MqttConnectionError, got ${String(error)}`);
  return error;
}

/** One message to ourselves at `qos`, through the broker. */
async function roundTrip(c: Client, topic: string, qos: 0 | 1 | 2, payload = "hello over TLS"): Promise<void> {
  const got = new Promise<string>((resolve) => {
    c.onMessage = (_c, _u, m: MQTTMessage) => resolve(Buffer.from(m.payload).toString("utf8"));
  });
  const subscribed = new Promise<void>((resolve) => {
    c.onSubscribe = () => resolve();
  });
  c.subscribe(topic, qos);
  await within(subscribed, 5000, "SUBACK");
  assert.equal(c.publish(topic, payload, qos).rc, MQTT_ERR_SUCCESS);
  assert.equal(await within(got, 5000, `the QoS ${qos} message`), payload);
}

function noStack(message: string): void {
  assert.doesNotMatch(message, /\n\s+at /, "an error message without a stack trace");
}

interface FakeTlsBroker {
  port: number;
  /** What each client offered: SNI (false without) and the ALPN protocol agreed (false without). */
  seen: Array<{ servername: string | false; alpn: string | false }>;
  /** Drops the connections of the clients made so far (the fake broker answers nothing but CONNECT). */
  dropClients(): Promise<void>;
  close(): Promise<void>;
}

/** A node:tls server with the test broker certificate that answers the first bytes with a CONNACK. */
async function fakeTlsBroker(options: tls.TlsOptions): Promise<FakeTlsBroker> {
  const pkiNow = currentPki!;
  const seen: FakeTlsBroker["seen"] = [];
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ key: pkiNow.read(pkiNow.server.key), cert: pkiNow.read(pkiNow.server.cert), ...options }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    seen.push({ servername: (socket as tls.TLSSocket & { servername?: string | false | null }).servername ?? false, alpn: socket.alpnProtocol ?? false });
    socket.once("data", () => socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00])));
    socket.on("error", () => {});
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    async dropClients() {
      for (const c of live.splice(0)) c.loopStop();
      for (const s of sockets) s.destroy();
      await sleep(20);
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let currentPki: TestPki | undefined;

describe("TLS transport (node:tls) against mosquitto", { timeout: 120_000 }, () => {
  let pki: TestPki;
  let broker: Broker;
  const port = { tls: 0, mismatch: 0, expired: 0, mutual: 0 };

  before(async () => {
    pki = currentPki = makeTestPki();
    for (const k of Object.keys(port) as Array<keyof typeof port>) port[k] = await freePort();
    const good = { ca: pki.ca, ...pki.server };
    broker = await startMosquitto({
      config: [
        tlsListener(port.tls, good),
        tlsListener(port.mismatch, { ca: pki.ca, ...pki.mismatch }),
        tlsListener(port.expired, { ca: pki.ca, ...pki.expired }),
        tlsListener(port.mutual, good, ["require_certificate true"]),
      ].join("\n"),
    });
  });

  after(async () => {
    await broker?.stop();
    pki?.remove();
  });

  test("verified: the test CA from a file; QoS 0/1/2 round trips; the socket is an authorized TLSSocket", async () => {
    const c = await online(HOST, port.tls, (c) => c.tlsSet({ caCerts: pki.ca }));
    const socket = c.socket() as tls.TLSSocket;
    assert.ok(socket instanceof tls.TLSSocket);
    assert.equal(socket.authorized, true);
    assert.equal(socket.getPeerCertificate().subject.CN, "127.0.0.1");
    for (const qos of [0, 1, 2] as const) await roundTrip(c, `tls/verified/${qos}`, qos);
  });

  test("verified by host name (localhost, a DNS SAN), CA given as PEM text, MQTT 5", async () => {
    const c = await online("localhost", port.tls, (c) => c.tlsSet({ caCerts: pki.read(pki.ca) }), { protocol: MQTTv5 });
    assert.equal((c.socket() as tls.TLSSocket).authorized, true);
    await roundTrip(c, "tls/localhost", 1);
  });

  test("tlsSetContext: a SecureContext made by the application", async () => {
    const context = tls.createSecureContext({ ca: pki.read(pki.ca) });
    const c = await online(HOST, port.tls, (c) => c.tlsSetContext(context));
    await roundTrip(c, "tls/context", 1);
  });

  test("verification is on by default: without a CA the test broker is refused (MQTT_ERR_TLS)", async () => {
    const e = await failure(HOST, port.tls, (c) => c.tlsSet());
    assert.equal(e.rc, MQTT_ERR_TLS);
    assert.match(e.message, /certificate/i);
    noStack(e.message);
  });

  test("a wrong CA is refused: MQTT_ERR_TLS naming the unverifiable certificate", async () => {
    const c = newClient((c) => c.tlsSet({ caCerts: pki.otherCa }));
    const error = await within(c.connect(HOST, port.tls, 30).then(() => null, (e: unknown) => e), 10_000, "connect() to reject");
    assert.ok(error instanceof MqttConnectionError, `expected an MqttConnectionError, got ${String(error)}`);
    assert.equal(error.rc, MQTT_ERR_TLS);
    assert.match(error.message, /unable to verify|self[- ]signed|issuer/i);
    assert.match(error.message, new RegExp(`${HOST}:${port.tls}`));
    noStack(error.message);
  });

  test("certReqs false (Paho's CERT_NONE) accepts a broker the CA does not vouch for", async () => {
    const c = await online(HOST, port.tls, (c) => c.tlsSet({ caCerts: pki.otherCa, certReqs: false }));
    assert.equal((c.socket() as tls.TLSSocket).authorized, false);
    await roundTrip(c, "tls/cert-none", 1);
  });

  test("host-name mismatch is refused (MQTT_ERR_TLS) ...", async () => {
    const e = await failure(HOST, port.mismatch, (c) => c.tlsSet({ caCerts: pki.ca }));
    assert.equal(e.rc, MQTT_ERR_TLS);
    assert.match(e.message, /altnames|host ?name|does not match/i);
    noStack(e.message);
  });

  test("... unless tlsInsecureSet(true), which turns off only the host-name check", async () => {
    const c = await online(HOST, port.mismatch, (c) => {
      c.tlsSet({ caCerts: pki.ca });
      c.tlsInsecureSet(true);
    });
    assert.equal((c.socket() as tls.TLSSocket).authorized, true, "the chain was still verified");
    await roundTrip(c, "tls/insecure", 1);
    // The chain is still checked: insecure does not accept an unknown CA.
    const e = await failure(HOST, port.mismatch, (c) => {
      c.tlsSet({ caCerts: pki.otherCa });
      c.tlsInsecureSet(true);
    });
    assert.equal(e.rc, MQTT_ERR_TLS);
    // Nor an expired certificate.
    const e2 = await failure(HOST, port.expired, (c) => {
      c.tlsSet({ caCerts: pki.ca });
      c.tlsInsecureSet(true);
    });
    assert.equal(e2.rc, MQTT_ERR_TLS);
  });

  test("an expired certificate is refused: MQTT_ERR_TLS, 'expired'", async () => {
    const e = await failure(HOST, port.expired, (c) => c.tlsSet({ caCerts: pki.ca }));
    assert.equal(e.rc, MQTT_ERR_TLS);
    assert.match(e.message, /expired/i);
    noStack(e.message);
  });

  test("mutual TLS (require_certificate true): accepted with a client certificate", async () => {
    const c = await online(HOST, port.mutual, (c) => c.tlsSet({ caCerts: pki.ca, certfile: pki.client.cert, keyfile: pki.client.key }));
    await roundTrip(c, "tls/mutual", 2);
    // PEM text works as well as paths.
    const c2 = await online(HOST, port.mutual, (c) => c.tlsSet({ caCerts: pki.ca, certfile: pki.read(pki.client.cert), keyfile: pki.read(pki.client.key) }));
    await roundTrip(c2, "tls/mutual-pem", 1);
  });

  for (const version of ["TLS 1.3", "TLS 1.2"] as const) {
    test(`mutual TLS (${version}): refused without a client certificate, or with one from another CA: MQTT_ERR_TLS`, async () => {
      // TLS 1.2 fails inside the handshake; TLS 1.3 only after it (the server checks our certificate once
      // the client has finished), so the client has opened the link and written CONNECT: both are a
      // failed first connection with the TLS reason.
      // mosquitto speaks 1.3; a SecureContext capped at 1.2 (tlsSetContext) makes the client speak 1.2.
      const maxVersion = version === "TLS 1.3" ? "TLSv1.3" : "TLSv1.2";
      const context = (client?: { cert: string; key: string }): tls.SecureContext => tls.createSecureContext({ maxVersion, ca: pki.read(pki.ca),
        ...(client === undefined ? {} : { cert: pki.read(client.cert), key: pki.read(client.key) }) });
      const e = await failure(HOST, port.mutual, (c) => c.tlsSetContext(context()));
      assert.equal(e.rc, MQTT_ERR_TLS, e.message);
      assert.match(e.message, /certificate|handshake|alert/i);
      noStack(e.message);
      const e2 = await failure(HOST, port.mutual, (c) => c.tlsSetContext(context(pki.rogueClient)));
      assert.equal(e2.rc, MQTT_ERR_TLS, e2.message);
      const c = await online(HOST, port.mutual, (c) => c.tlsSetContext(context(pki.client)));
      assert.equal((c.socket() as tls.TLSSocket).getProtocol(), maxVersion);
    });
  }

  test("minimum TLS version: TLSv1.3 against a broker that speaks at most TLS 1.2 is refused (MQTT_ERR_TLS); TLSv1.2 connects", async () => {
    // mosquitto's tls_version is a minimum too, so the TLS 1.2-only broker is a node:tls one.
    const fake = await fakeTlsBroker({ maxVersion: "TLSv1.2" });
    try {
      const e = await failure(HOST, fake.port, (c) => c.tlsSet({ caCerts: pki.ca, tlsVersion: "TLSv1.3" }));
      assert.equal(e.rc, MQTT_ERR_TLS);
      assert.match(e.message, /version|protocol/i);
      noStack(e.message);
      const c = await online(HOST, fake.port, (c) => c.tlsSet({ caCerts: pki.ca, tlsVersion: "TLSv1.2" }));
      assert.equal((c.socket() as tls.TLSSocket).getProtocol(), "TLSv1.2");
      await fake.dropClients();
    } finally {
      await fake.close();
    }
    // Against mosquitto (which speaks 1.3), TLSv1.2 as the minimum negotiates 1.3, and TLSv1.3 connects.
    const c12 = await online(HOST, port.tls, (c) => c.tlsSet({ caCerts: pki.ca, tlsVersion: "TLSv1.2" }));
    assert.equal((c12.socket() as tls.TLSSocket).getProtocol(), "TLSv1.3");
    const c13 = await online(HOST, port.tls, (c) => c.tlsSet({ caCerts: pki.ca, tlsVersion: "TLSv1.3" }));
    assert.equal((c13.socket() as tls.TLSSocket).getProtocol(), "TLSv1.3");
  });

  test("ciphers (TLS 1.2): a list the broker does not share is refused (MQTT_ERR_TLS); a shared one is used", async () => {
    const cipher = "ECDHE-ECDSA-AES256-GCM-SHA384";
    const fake = await fakeTlsBroker({ maxVersion: "TLSv1.2", ciphers: cipher });
    try {
      const e = await failure(HOST, fake.port, (c) => c.tlsSet({ caCerts: pki.ca, ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" }));
      assert.equal(e.rc, MQTT_ERR_TLS);
      assert.match(e.message, /handshake|cipher/i);
      const c = await online(HOST, fake.port, (c) => c.tlsSet({ caCerts: pki.ca, ciphers: `${cipher}:ECDHE-ECDSA-CHACHA20-POLY1305` }));
      assert.equal((c.socket() as tls.TLSSocket).getCipher().name, cipher);
      await fake.dropClients();
    } finally {
      await fake.close();
    }
  });

  test("SNI is sent for a host name (not for an IP address, as RFC 6066 says); ALPN protocols are offered", async () => {
    const fake = await fakeTlsBroker({ ALPNProtocols: ["mqtt", "x-other"] });
    try {
      const c = await online("localhost", fake.port, (c) => c.tlsSet({ caCerts: pki.ca, alpnProtocols: ["mqtt"] }));
      assert.equal((c.socket() as tls.TLSSocket).alpnProtocol, "mqtt");
      const c2 = await online(HOST, fake.port, (c) => c.tlsSet({ caCerts: pki.ca }));
      assert.equal((c2.socket() as tls.TLSSocket).alpnProtocol, false);
      assert.deepEqual(fake.seen, [{ servername: "localhost", alpn: "mqtt" }, { servername: false, alpn: false }]);
      await fake.dropClients();
    } finally {
      await fake.close();
    }
  });

  test("a TLS failure's message is one line with the reason in words (not OpenSSL's error-queue dump)",
    async () => {
      const context = tls.createSecureContext({ ca: pki.read(pki.ca) });
      const e = await failure(HOST, port.mutual, (c) => c.tlsSetContext(context));
      assert.equal(e.rc, MQTT_ERR_TLS);
      assert.ok(!e.message.includes("\n"), JSON.stringify(e.message));
      assert.doesNotMatch(e.message, /:error:[0-9A-F]+:|\.c:\d+/, JSON.stringify(e.message));
      assert.match(e.message, /certificate required/);
    });

  test("a refused connection (TLS set, nothing listening) is MQTT_ERR_NO_CONN in one line, no stack trace", async () => {
    const dead = await freePort();
    const c = newClient((c) => c.tlsSet({ caCerts: pki.ca }));
    const logs: string[] = [];
    c.onLog = (_c, _u, _l, m) => logs.push(m);
    const error = await within(c.connect(HOST, dead).then(() => null, (e: unknown) => e), 10_000, "connect() to reject");
    assert.ok(error instanceof MqttConnectionError);
    assert.equal(error.rc, MQTT_ERR_NO_CONN);
    assert.equal(error.message, `connection refused by ${HOST}:${dead}`);
    for (const line of logs) noStack(line);
    assert.ok(logs.some((l) => l.includes(`connection refused by ${HOST}:${dead}`)), logs.join("\n"));
  });

  test("a CA file that does not exist: connect() rejects naming the path (no hang, no crash)", async () => {
    const c = newClient((c) => c.tlsSet({ caCerts: "/nonexistent/tinymqtt-ca.pem" }));
    const error = await within(Promise.resolve().then(() => c.connect(HOST, port.tls)).then(() => null, (e: unknown) => e), 10_000, "connect() to reject");
    assert.ok(error instanceof Error);
    assert.match(error.message, /\/nonexistent\/tinymqtt-ca\.pem/);
  });

  test("a CA file that does not exist is a typed error: MqttConnectionError with MQTT_ERR_TLS (as over WebSockets)",
    async () => {
      const c = newClient((c) => c.tlsSet({ caCerts: "/nonexistent/tinymqtt-ca.pem" }));
      const error = await within(Promise.resolve().then(() => c.connect(HOST, port.tls)).then(() => null, (e: unknown) => e), 10_000, "connect() to reject");
      assert.ok(error instanceof MqttConnectionError, `expected an MqttConnectionError, got ${String(error)}`);
      assert.equal(error.rc, MQTT_ERR_TLS);
    });

  test("bindAddress: the local side of the TLS socket is bound (127.0.0.2 seen by the broker)", async () => {
    const c = await online(HOST, port.tls, (c) => c.tlsSet({ caCerts: pki.ca }), { bindAddress: "127.0.0.2" });
    const socket = c.socket() as tls.TLSSocket;
    assert.equal(socket.localAddress, "127.0.0.2");
    await until(() => broker.log.includes(`New client connected from 127.0.0.2:${socket.localPort}`), 5000, "mosquitto to log the bound address");
  });
});
