/** Milliseconds spent in each phase of a run, in the order the phases first ran. */
export type PhaseTimes = Readonly<Record<string, number>>;

/**
 * Splits a run into consecutive phases: `lap(name)` charges the time since the previous lap
 * (or since the stopwatch started) to `name`. The phases add up to the run's wall time.
 */
export class Stopwatch {
  private last = performance.now();
  private readonly times: Record<string, number> = {};

  lap(name: string): void {
    const now = performance.now();
    this.times[name] = (this.times[name] ?? 0) + (now - this.last);
    this.last = now;
  }

  /** A lap of which a callee timed some parts itself: those keep their names, `name` gets the rest. */
  lapWith(name: string, parts: PhaseTimes): void {
    const now = performance.now();
    const inParts = Object.values(parts).reduce((a, b) => a + b, 0);
    this.times[name] = (this.times[name] ?? 0) + Math.max(0, now - this.last - inParts);
    for (const [part, ms] of Object.entries(parts)) this.times[part] = (this.times[part] ?? 0) + ms;
    this.last = now;
  }

  get phases(): PhaseTimes {
    return { ...this.times };
  }
}
