/** V8 CPU profiles (the `.cpuprofile` format): who spent the samples, by area and by function. */

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function lives: one of our files, a package, Node itself, or V8's own work. */
export function areaOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  const ours = /\/((?:src|scripts)\/.*)$/.exec(url);
  if (ours) return ours[1] as string;
  return url.startsWith('node:') ? 'node:internal' : url;
}

export const frameKey = (node: ProfileNode): string =>
  `${node.callFrame.functionName || '(anonymous)'} ${areaOf(node.callFrame.url, node.callFrame.functionName)}:${node.callFrame.lineNumber + 1}`;

/** Self time (µs) of a profile: per node, and added up by area and by function, with the main thread's busy and idle time. */
export interface SelfTimes {
  byNode: Map<number, number>;
  areas: Map<string, number>;
  functions: Map<string, number>;
  busy: number;
  idle: number;
}

/**
 * Self times of the samples taken after the first `skipMicros` µs (start-up, fixtures). A sample stands for the time
 * until the next one (as DevTools counts it): `timeDeltas[i]` is the time before sample i, and the first one runs from
 * the profiler's start, spent starting it.
 */
export function selfTimes(profile: CpuProfile, skipMicros = 0): SelfTimes {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byNode = new Map<number, number>();
  let elapsed = profile.timeDeltas[0] ?? 0;
  profile.samples.forEach((id, i) => {
    const until = profile.timeDeltas[i + 1];
    if (until === undefined) return; // the last sample: the profiler stopping
    if (elapsed >= skipMicros) byNode.set(id, (byNode.get(id) ?? 0) + until);
    elapsed += until;
  });
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, time] of byNode) {
    const node = byId.get(id) as ProfileNode;
    if (node.callFrame.functionName === '(idle)') {
      idle += time;
      continue;
    }
    busy += time;
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + time);
    const key = frameKey(node);
    functions.set(key, (functions.get(key) ?? 0) + time);
  }
  return { byNode, areas, functions, busy, idle };
}
