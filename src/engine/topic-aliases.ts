/**
 * MQTT 5 topic aliases (section 3.3.2.3.4), both ways, each bounded by a maximum fixed for the
 * connection. Aliases live only as long as the connection: newConnection() on every new one. One object
 * for both ways: an engine on MQTT 5 makes it once, through its MQTT 5 part (./mqtt5.ts).
 */
export class TopicAliases {
  /** Aliases the broker assigns us, up to the Topic Alias Maximum we advertised (the budget's), by alias. */
  private readonly topics: Array<string | undefined>;
  /**
   * Aliases we assign, within the broker's Topic Alias Maximum and our own budget. An alias once given
   * keeps its topic for the connection (no reassignment): the first use carries topic and alias, later
   * ones the alias alone.
   */
  private readonly byTopic = new Map<string, number>();
  private limit = 0;

  /** `maximum`: the budget's, both ways. */
  constructor(readonly maximum: number) {
    this.topics = new Array<string | undefined>(maximum + 1).fill(undefined);
  }

  /** A new connection: no alias either way, and none to give until the broker's CONNACK says how many. */
  newConnection(): void {
    this.topics.fill(undefined);
    this.reset(0);
  }

  // ---- incoming -------------------------------------------------------------------------------

  /** False when alias is 0 or above our maximum: the broker broke [MQTT-3.3.2-9]. */
  set(alias: number, topic: string): boolean {
    if (alias < 1 || alias > this.maximum) return false;
    this.topics[alias] = topic;
    return true;
  }

  /** The topic alias stands for, or undefined when the broker never set it. */
  get(alias: number): string | undefined {
    return this.topics[alias];
  }

  // ---- outgoing -------------------------------------------------------------------------------

  /** For a new connection: the broker's Topic Alias Maximum (0 when it takes none). */
  reset(brokerMaximum: number): void {
    this.byTopic.clear();
    this.limit = Math.min(brokerMaximum, this.maximum);
  }

  /**
   * The alias for topic: positive when it is already known to the broker, negative (-alias) when it is
   * new and must go with the topic this time (then remember() it once the packet is out), 0 when no
   * alias is left.
   */
  aliasFor(topic: string): number {
    const known = this.byTopic.get(topic);
    if (known !== undefined) return known;
    return this.byTopic.size >= this.limit ? 0 : -(this.byTopic.size + 1);
  }

  /** The packet that teaches the broker this alias is in the output: later ones may use it alone. */
  remember(topic: string, alias: number): void {
    this.byTopic.set(topic, alias);
  }
}
