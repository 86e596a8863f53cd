/**
 * The simulated devices: each a full Client with the budget given and a will, connected in a ramp of at
 * most `connectBatch` attempts at once, reconnecting by itself (loopStart and its reconnect delay) after a
 * link cut. At QoS 1 and 2 a link cut must lose nothing, so devices keep a session (cleanSession false,
 * with client ids unique to the run); at QoS 0 they start clean.
 */
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { type Budget, Client, MQTT_ERR_NO_CONN, MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS, type QoS } from "../index.js";
import type { BrokerHandle } from "./broker.js";
import { PayloadWriter } from "./payload.js";

interface Device {
  index: number;
  client: Client;
  topic: string;
  seq: number;
  connected: boolean;
  started: boolean;
  /** Its first attempt ended (connected or failed): the ramp starts the next device then. */
  attempted: boolean;
  everConnected: boolean;
  /** QoS 1/2 publishes accepted and not yet complete. */
  pending: number;
}

export interface FleetSettings {
  devices: number;
  /** The first device's index in the whole fleet (a worker or shard runs a slice of it); 0 for the whole. */
  first: number;
  qos: QoS;
  budget: Budget;
  keepalive: number;
  /** Topics are base/<index>/t and base/<index>/will, with the index in the whole fleet. */
  base: string;
  runId: string;
  auth?: { username: string; password: string } | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class Fleet {
  readonly devices: Device[] = [];
  connected = 0;
  maxConnected = 0;
  connectFailures = 0;
  reconnects = 0;
  cuts = 0;
  /** Publishes accepted, QoS 0 ones skipped while offline, ones refused by a full budget. */
  sent = 0;
  skippedOffline = 0;
  refusedBudget = 0;
  readonly problems: string[] = [];
  private nextToStart = 0;
  private stopping = false;
  private readonly payload = new PayloadWriter();

  /**
   * With several brokers (a cluster's nodes), device i connects first to broker i mod n and fails over to
   * the others in turn (Client.failoverSet), so the fleet is spread over the nodes.
   */
  constructor(private readonly settings: FleetSettings, private readonly brokers: BrokerHandle[]) {
    for (let i = 0; i < settings.devices; i++) this.devices.push(this.device(settings.first + i));
  }

  private device(index: number): Device {
    const { qos, base, runId, budget } = this.settings;
    const client = new Client({ clientId: `tinymqtt-sim-${runId}-${index}`, cleanSession: qos === 0, budget });
    const device: Device = { index, client, topic: `${base}/${index}/t`, seq: 0, connected: false, started: false, attempted: false,
      everConnected: false, pending: 0 };
    client.willSet(`${base}/${index}/will`, "offline", 1);
    if (this.settings.auth !== undefined) client.usernamePwSet(this.settings.auth.username, this.settings.auth.password);
    client.reconnectDelaySet(0.25, 4);
    const n = this.brokers.length;
    if (n > 1) client.failoverSet(Array.from({ length: n - 1 }, (_, k) => this.brokers[(index + 1 + k) % n]!).map(({ host, port }) => ({ host, port })));
    client.onConnect = (_c, _u, _f, rc) => {
      if (rc !== 0) return;
      if (device.everConnected) this.reconnects++;
      if (!device.attempted) this.startNext();
      device.attempted = device.everConnected = device.connected = true;
      this.connected++;
      if (this.connected > this.maxConnected) this.maxConnected = this.connected;
    };
    client.onConnectFail = () => {
      this.connectFailures++;
      if (device.attempted) return;
      // It keeps retrying in the background; the ramp goes on.
      device.attempted = true;
      this.startNext();
    };
    client.onDisconnect = () => {
      if (device.connected) this.connected--;
      device.connected = false;
    };
    if (qos > 0) client.onPublish = () => { device.pending--; };
    return device;
  }

  private startNext(): void {
    if (this.stopping || this.nextToStart >= this.devices.length) return;
    const device = this.devices[this.nextToStart++]!;
    device.started = true;
    const broker = this.brokers[device.index % this.brokers.length]!;
    device.client.connectAsync(broker.host, broker.port, this.settings.keepalive);
    device.client.loopStart();
  }

  /** Starts connectBatch devices; each first attempt that ends starts the next. Resolves when all are connected or at the deadline. */
  async ramp(connectBatch: number): Promise<number> {
    const n = this.devices.length;
    const start = performance.now();
    for (let i = 0; i < Math.min(connectBatch, n); i++) this.startNext();
    const deadline = start + 10_000 + n * 10;
    while (this.connected < n && performance.now() < deadline) await sleep(50);
    if (this.connected < n) this.problems.push(`only ${this.connected} of ${n} devices connected within ${((deadline - start) / 1000).toFixed(0)} s`);
    return (performance.now() - start) / 1000;
  }

  publish(device: Device): void {
    const info = device.client.publish(device.topic, this.payload.write(device.index, device.seq, performance.timeOrigin + performance.now()), this.settings.qos);
    // QoS 1/2 published while the link is down says MQTT_ERR_NO_CONN, as in Paho, but is queued.
    if (info.rc === MQTT_ERR_SUCCESS || (this.settings.qos > 0 && info.rc === MQTT_ERR_NO_CONN)) {
      device.seq++;
      this.sent++;
      if (this.settings.qos > 0) device.pending++;
    } else if (info.rc === MQTT_ERR_NO_CONN) this.skippedOffline++;
    else if (info.rc === MQTT_ERR_QUEUE_SIZE) this.refusedBudget++;
    else this.problems.push(`publish failed with rc ${info.rc}`);
  }

  /** Destroys the socket of a connected device picked at random (a few tries to find one). */
  cutOne(): void {
    for (let attempt = 0; attempt < 8; attempt++) {
      const device = this.devices[Math.floor(Math.random() * this.devices.length)]!;
      if (!device.connected) continue;
      const socket = device.client.socket() as Socket | null;
      if (socket === null) continue;
      socket.destroy();
      this.cuts++;
      return;
    }
  }

  /** QoS 1/2 flows not complete yet. */
  pending(): number {
    let p = 0;
    for (const d of this.devices) p += Math.max(0, d.pending);
    return p;
  }

  /** DISCONNECT from every device (so no will goes out), then a bounded wait for the links to close. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const d of this.devices) if (d.started) d.client.disconnect();
    const deadline = performance.now() + 5000;
    while (this.connected > 0 && performance.now() < deadline) await sleep(20);
    for (const d of this.devices) if (d.started) d.client.loopStop();
  }
}
