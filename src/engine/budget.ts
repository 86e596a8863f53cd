/**
 * The memory budget: every buffer and table the client will ever use, sized here and allocated when the
 * client is constructed. Nothing grows after that; when a budget is full the API says so
 * (MQTT_ERR_QUEUE_SIZE, a log line) instead.
 */
export interface Budget {
  /** The largest incoming packet, fixed header included: the receive buffer. Advertised as v5 Maximum Packet Size. */
  maxPacketSize: number;
  /**
   * The ring of bytes waiting for the transport to take them: a window, not a limit. A larger PUBLISH goes
   * out through it, its payload read from the publisher's array in pieces of at most this size.
   */
  outputBytes: number;
  /** Encoded QoS 1/2 publishes kept until their flow completes (in flight or queued); the header only of one larger than outputBytes. */
  storeBytes: number;
  /** Packet ids in use at once: QoS 1/2 publishes in flight or queued, plus pending (un)subscribes. */
  maxMessages: number;
  /**
   * Incoming QoS 2 messages between PUBREC and PUBREL. Advertised as v5 Receive Maximum; on 3.x, which cannot
   * advertise it, ids past it are held in an 8 KiB set made when a broker first sends more (see IncomingQos2).
   */
  maxIncomingQos2: number;
  /** MQTT 5 topic aliases each way: advertised as our Topic Alias Maximum, and the most we assign. */
  maxTopicAliases: number;
}

/** For Node applications: generous, still fixed. About 1 MiB per client. */
export const DEFAULT_BUDGET: Readonly<Budget> = Object.freeze({
  maxPacketSize: 256 * 1024,
  outputBytes: 128 * 1024,
  storeBytes: 512 * 1024,
  maxMessages: 1024,
  maxIncomingQos2: 64,
  maxTopicAliases: 64,
});

/** For an ESP32 with tens of KB of heap: about 13 KiB of buffers in all. */
export const ESP32_BUDGET: Readonly<Budget> = Object.freeze({
  maxPacketSize: 4096,
  outputBytes: 2048,
  storeBytes: 6144,
  maxMessages: 32,
  maxIncomingQos2: 16,
  maxTopicAliases: 8,
});

export function checkBudget(partial: Partial<Budget> | undefined): Budget {
  const b: Budget = { ...DEFAULT_BUDGET, ...partial };
  const check = (name: keyof Budget, min: number, max: number): void => {
    const v = b[name];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(`budget.${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
    }
  };
  check("maxPacketSize", 64, 268435460);
  check("outputBytes", 64, 268435460);
  check("storeBytes", 64, 268435460);
  check("maxMessages", 1, 65535);
  check("maxIncomingQos2", 1, 65535);
  check("maxTopicAliases", 0, 65535);
  // A fresh literal: every client keeps its budget, and a spread's result holds its fields out of line.
  return { maxPacketSize: b.maxPacketSize, outputBytes: b.outputBytes, storeBytes: b.storeBytes, maxMessages: b.maxMessages,
    maxIncomingQos2: b.maxIncomingQos2, maxTopicAliases: b.maxTopicAliases };
}
