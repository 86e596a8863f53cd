/**
 * Paho's topic_matches_sub. The checks publish() and subscribe() make of topic names and filters are
 * ../codec/topics.ts's topicNameProblem and topicFilterProblem.
 */

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
