/**
 * Topic names and filters (MQTT 5 section 4.7): the checks publish() and subscribe() make before anything
 * is queued, and Paho's topic_matches_sub.
 */
import { topicFilterSyntaxProblem, topicNameSyntaxProblem } from "../codec/topics.js";
import { utf8Length } from "../codec/utf8.js";

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

function stringProblem(s: string, what: string): string | undefined {
  const n = utf8Length(s);
  if (n < 0) return `the ${what} contains a lone UTF-16 surrogate`;
  if (n > 65535) return `the ${what} is ${n} bytes of UTF-8; at most 65535`;
  if (s.indexOf("\u0000") >= 0) return `the ${what} contains U+0000`;
  return undefined;
}

/**
 * Whether `topic` matches subscription filter `sub`, as Paho's topic_matches_sub: "+" one level, "#" the
 * rest (including the parent level), and wildcards at the start never match topics starting with "$"
 * [MQTT-4.7.2-1]. A shared subscription "$share/group/filter" matches as its filter.
 */
export function topicMatchesSub(sub: string, topic: string): boolean {
  if (sub.startsWith("$share/")) {
    const slash = sub.indexOf("/", 7);
    if (slash < 0) return false;
    sub = sub.slice(slash + 1);
  }
  if (topic.startsWith("$") && (sub.startsWith("+") || sub.startsWith("#"))) return false;
  let s = 0;
  let t = 0;
  for (;;) {
    const sEnd = endOfLevel(sub, s);
    const level = sub.slice(s, sEnd);
    if (level === "#") return sEnd === sub.length;
    if (t > topic.length) return false;
    const tEnd = endOfLevel(topic, t);
    if (level !== "+" && level !== topic.slice(t, tEnd)) return false;
    const subDone = sEnd >= sub.length;
    const topicDone = tEnd >= topic.length;
    if (subDone || topicDone) {
      if (subDone && topicDone) return true;
      // "a/#" also matches "a": the filter's next and last level is "#".
      return topicDone && !subDone && sub.slice(sEnd + 1) === "#";
    }
    s = sEnd + 1;
    t = tEnd + 1;
  }
}

function endOfLevel(s: string, from: number): number {
  const i = s.indexOf("/", from);
  return i < 0 ? s.length : i;
}
