/**
 * The syntax of topic names and filters (MQTT 5 section 4.7), shared by the codec (both directions) and
 * the clients' argument checks (the Paho and ECMA-419 clients' and tinymqtt/lite's).
 */
import { stringProblem } from "./utf8.js";

/** Why `topic` cannot be a PUBLISH topic name, or undefined when it can. */
export function topicNameProblem(topic: unknown): string | undefined {
  if (typeof topic !== "string") return "the topic must be a string";
  if (topic.length === 0) return "the topic must not be empty";
  return topicNameSyntaxProblem(topic) ?? stringProblem(topic, "topic");
}

/** Why `filter` cannot be a topic filter for `version`, or undefined when it can. */
export function topicFilterProblem(filter: unknown, version: number): string | undefined {
  if (typeof filter !== "string") return "a topic filter must be a string";
  return topicFilterSyntaxProblem(filter, version) ?? stringProblem(filter, "topic filter");
}


/** Why `name` cannot be a topic name (wildcards), or undefined. Emptiness is checked by the caller. */
export function topicNameSyntaxProblem(name: string): string | undefined {
  if (name.indexOf("+") >= 0 || name.indexOf("#") >= 0) return "a topic name must not contain the wildcards + or # [MQTT-3.3.2-2]";
  return undefined;
}

/** Why `filter` cannot be a topic filter, or undefined. Shared subscriptions exist from MQTT 5 on. */
export function topicFilterSyntaxProblem(filter: string, version: number): string | undefined {
  if (filter.length === 0) return "a topic filter must not be empty [MQTT-4.7.3-1]";
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.indexOf("#") >= 0 && (level !== "#" || i !== levels.length - 1)) {
      return `"#" must be a whole level and the last one, in ${JSON.stringify(filter)} [MQTT-4.7.1-1]`;
    }
    if (level.indexOf("+") >= 0 && level !== "+") return `"+" must be a whole level, in ${JSON.stringify(filter)} [MQTT-4.7.1-2]`;
  }
  if (version === 5 && isSharedFilter(filter)) {
    const group = levels[1]!;
    if (group === "" || group.includes("+") || group.includes("#")) {
      return `a shared subscription's group name is one level without wildcards, in ${JSON.stringify(filter)} [MQTT-4.8.2-1]`;
    }
    if (levels.length < 3 || levels.slice(2).join("/") === "") {
      return `a shared subscription is $share/<group>/<filter>, not ${JSON.stringify(filter)} [MQTT-4.8.2-2]`;
    }
  }
  return undefined;
}

export function isSharedFilter(filter: string): boolean {
  return filter.startsWith("$share/");
}
