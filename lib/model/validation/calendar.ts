import { Issues } from './issue';

/**
 * systemd's calendar expressions (OnCalendar=, systemd.time(7)), parsed as systemd 252's calendarspec.c parses them,
 * so a schedule systemd would refuse is refused at synth, not by the timer unit on every etcd member.
 * Local time zone abbreviations (e.g. "CET" on a host in Berlin) depend on the host and are not accepted; "UTC" and
 * IANA zone names are.
 */

/** A parsed element of one field: start, an optional inclusive stop, and the step (0: no repetition). */
interface Component {
  start: number;
  stop: number;
  repeat: number;
}

const USEC_PER_SEC = 1_000_000;
const MIN_YEAR = 1970;
const MAX_YEAR = 2199;
/** systemd caps a field's list (CALENDARSPEC_COMPONENTS_MAX) so it cannot exhaust the stack. */
const MAX_COMPONENTS = 241;
const INT_MAX = 2 ** 31 - 1;

/** The shorthands systemd expands, matched without regard to case. */
const SHORTHANDS = new Set([
  'minutely', 'hourly', 'daily', 'monthly', 'weekly', 'yearly', 'annually', 'anually', 'quarterly',
  'semiannually', 'semi-annually', 'biannually', 'bi-annually',
]);

/** Longer names first: "Monday" before "Mon". */
const WEEKDAYS: readonly [string, number][] = [
  ['monday', 0], ['mon', 0], ['tuesday', 1], ['tue', 1], ['wednesday', 2], ['wed', 2], ['thursday', 3], ['thu', 3],
  ['friday', 4], ['fri', 4], ['saturday', 5], ['sat', 5], ['sunday', 6], ['sun', 6],
];

class CalendarSyntaxError extends Error {}

function fail(why: string): never {
  throw new CalendarSyntaxError(why);
}

let zones: Set<string> | undefined;
/** IANA zone names as systemd finds them under /usr/share/zoneinfo: case matters. */
function isTimeZone(name: string): boolean {
  zones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT']);
  return zones.has(name);
}

/** A cursor over the expression; at() is its next character, '' past the end. */
class Cursor {
  constructor(readonly text: string, public pos = 0) {}

  /** A method, not a getter: the compiler must not narrow it across pos changes. */
  at(): string {
    return this.text[this.pos] ?? '';
  }

  peek(offset: number): string {
    return this.text[this.pos + offset] ?? '';
  }

  skipSpaces(): void {
    while (this.at() === ' ') this.pos++;
  }
}

/** Why systemd refuses the expression, or undefined when it accepts it. */
export function calendarProblem(expression: string): string | undefined {
  try {
    parseCalendar(expression);
    return undefined;
  } catch (e) {
    if (e instanceof CalendarSyntaxError) return e.message;
    throw e;
  }
}

function parseCalendar(expression: string): void {
  let p = expression;
  if (/ utc$/i.test(p)) p = p.slice(0, -4);
  else {
    const space = p.lastIndexOf(' ');
    if (space >= 0 && isTimeZone(p.slice(space + 1))) p = p.slice(0, space);
  }
  if (p === '') fail('is empty');
  if (SHORTHANDS.has(p.toLowerCase())) return;

  const fields: Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', Component[] | undefined> = {
    year: undefined, month: undefined, day: undefined, hour: undefined, minute: undefined, second: undefined,
  };
  const c = new Cursor(p);
  parseWeekdays(c);
  const date = parseDate(c, fields);
  if (!date.timestamp) parseTime(c, fields);
  if (c.at() !== '') fail(`has "${p.slice(c.pos)}" where the expression should end`);

  fields.year?.forEach((x) => { x.start = fixYear(x.start); x.stop = fixYear(x.stop); });
  check(fields.year, MIN_YEAR, MAX_YEAR, false, 'year');
  check(fields.month, 1, 12, false, 'month');
  check(fields.day, 1, 31, date.endOfMonth, date.endOfMonth ? 'day counted from the end of the month' : 'day');
  check(fields.hour, 0, 23, false, 'hour');
  check(fields.minute, 0, 59, false, 'minute');
  check(fields.second, 0, 60 * USEC_PER_SEC - 1, false, 'second');
}

/** Two-digit years, as systemd reads them: 12 is 2012, 89 is 1989. */
function fixYear(y: number): number {
  if (y >= 0 && y < 70) return y + 2000;
  if (y >= 70 && y < 100) return y + 1900;
  return y;
}

function parseWeekdays(c: Cursor): void {
  let rangeFrom = -1;
  for (let first = true; ; first = false) {
    const rest = c.text.slice(c.pos).toLowerCase();
    const day = WEEKDAYS.find(([name]) => rest.startsWith(name));
    if (!day) {
      if (first) return;
      fail(`has "${c.text.slice(c.pos)}" where a weekday (Mon to Sun) belongs`);
    }
    const [name, nr] = day;
    if (!['', '-', '.', ',', ' '].includes(c.peek(name.length))) fail(`has "${c.text.slice(c.pos)}", not a weekday name`);
    if (rangeFrom >= 0 && rangeFrom > nr) fail('has a weekday range that runs backwards; write it Mon..Sun order');
    c.pos += name.length;
    if (c.at() === '') return;
    if (c.at() === ' ') {
      c.skipSpaces();
      return;
    }
    if (c.at() === '.') {
      if (rangeFrom >= 0 || c.peek(1) !== '.') fail('has a malformed weekday range; write e.g. "Mon..Fri"');
      rangeFrom = nr;
      c.pos += 2;
    } else if (c.at() === '-') {
      if (rangeFrom >= 0) fail('has a malformed weekday range; write e.g. "Mon..Fri"');
      rangeFrom = nr;
      c.pos += 1;
    } else if (c.at() === ',') {
      rangeFrom = -1;
      c.pos += 1;
    }
    if (c.at() === '' || c.at() === ' ') {
      c.skipSpaces();
      if (rangeFrom >= 0) fail('has a weekday range without its end; write e.g. "Mon..Fri"');
      return;
    }
  }
}

/** The date part, if any: [[year-]month-]day, or @seconds since the epoch. */
function parseDate(c: Cursor, f: Record<string, Component[] | undefined>): { timestamp: boolean; endOfMonth: boolean } {
  if (c.at() === '') return { timestamp: false, endOfMonth: false };
  if (c.at() === '@') {
    c.pos++;
    f.year = [constant(epochYear(c))];
    return { timestamp: true, endOfMonth: false };
  }
  const start = c.pos;
  const first = parseChain(c, false);
  // A ':' after the first field: it was the time, not a date.
  if (c.at() === '' || c.at() === ':') {
    c.pos = start;
    return { timestamp: false, endOfMonth: false };
  }
  let endOfMonth = false;
  if (c.at() === '~') endOfMonth = true;
  else if (c.at() !== '-') fail(`has "${c.at()}" after a date field; separate year, month and day with "-"`);
  c.pos++;
  const second = parseChain(c, false);
  if (c.at() === '' || c.at() === ' ') {
    c.skipSpaces();
    f.month = first;
    f.day = second;
    return { timestamp: false, endOfMonth: endOfMonth && second !== undefined };
  }
  if (endOfMonth) fail('has "~" before the month; "~" goes between month and day, e.g. "*-02~01"');
  if (c.at() === '~') endOfMonth = true;
  else if (c.at() !== '-') fail(`has "${c.at()}" after a date field; separate year, month and day with "-"`);
  c.pos++;
  const third = parseChain(c, false);
  if (c.at() !== '' && c.at() !== ' ') fail(`has "${c.text.slice(c.pos)}" after the date; put one space before the time`);
  c.skipSpaces();
  f.year = first;
  f.month = second;
  f.day = third;
  return { timestamp: false, endOfMonth: endOfMonth && third !== undefined };
}

/** "@N": strtoul's reading (leading white space and a sign), then the UTC year of that second. */
function epochYear(c: Cursor): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(c.text.slice(c.pos));
  if (!m) fail('has "@" without a number of seconds since the epoch');
  c.pos += m[0].length;
  const n = BigInt(m[2]);
  if (n > 2n ** 64n - 1n) fail('has a timestamp out of range');
  // A negative number wraps, as in C: only -0 stays in 1970.
  if (m[1] === '-' && n !== 0n) return MIN_YEAR - 1;
  if (n > 8_000_000_000_000n) return MAX_YEAR + 1;
  return new Date(Number(n) * 1000).getUTCFullYear();
}

function parseTime(c: Cursor, f: Record<string, Component[] | undefined>): void {
  if (c.at() === '') {
    f.hour = [constant(0)];
    f.minute = [constant(0)];
    f.second = [constant(0)];
    return;
  }
  f.hour = parseChain(c, false);
  if (c.at() !== ':') fail(`has "${c.text.slice(c.pos)}" where the time belongs; write it hh:mm[:ss], e.g. "02:30:00"`);
  c.pos++;
  f.minute = parseChain(c, false);
  if (c.at() === '') {
    f.second = [constant(0)];
    return;
  }
  if (c.at() !== ':') fail(`has "${c.text.slice(c.pos)}" after the minutes`);
  c.pos++;
  f.second = parseChain(c, true);
}

function constant(value: number): Component {
  return { start: value, stop: -1, repeat: 0 };
}

/** One field: "*" (undefined: any value), or a comma list of N, N..M and either with /STEP. */
function parseChain(c: Cursor, usec: boolean): Component[] | undefined {
  if (c.at() === '*') {
    c.pos++;
    return usec ? [{ start: 0, stop: -1, repeat: USEC_PER_SEC }] : undefined;
  }
  const list: Component[] = [];
  for (;;) {
    if (list.length >= MAX_COMPONENTS) fail(`lists more than ${MAX_COMPONENTS} values in one field`);
    const start = decimal(c, usec);
    let stop = -1;
    let repeat = 0;
    if (c.at() === '.' && c.peek(1) === '.') {
      c.pos += 2;
      stop = decimal(c, usec);
      repeat = usec ? USEC_PER_SEC : 1;
    }
    if (c.at() === '/') {
      c.pos++;
      repeat = decimal(c, usec);
      if (repeat === 0) fail('has a repetition of 0; use a step of 1 or more, e.g. "0/15"');
    }
    if (!['', ' ', ',', '-', '~', ':'].includes(c.at())) fail(`has "${c.text.slice(c.pos)}" where a number, "..", "/" or "," belongs`);
    list.push({ start, stop, repeat });
    if (c.at() !== ',') return list;
    c.pos++;
  }
}

/** A whole number; in the seconds field with up to six decimals (a seventh rounds). */
function decimal(c: Cursor, usec: boolean): number {
  const m = /^\d+/.exec(c.text.slice(c.pos));
  if (!m) fail(`has "${c.text.slice(c.pos) || '(end)'}" where a number belongs`);
  c.pos += m[0].length;
  let value = Number(m[0]);
  if (usec) {
    value *= USEC_PER_SEC;
    if (c.at() === '.' && c.peek(1) !== '.') {
      c.pos++;
      const digits = /^\d+/.exec(c.text.slice(c.pos));
      if (!digits) fail('has a "." in the seconds without decimals after it');
      c.pos += digits[0].length;
      const six = Number(digits[0].slice(0, 6).padEnd(6, '0'));
      value += six + (digits[0].length > 6 && digits[0][6] >= '5' ? 1 : 0);
    }
  }
  if (!Number.isSafeInteger(value) || value > INT_MAX) fail(`has ${m[0]}, a number out of range`);
  return value;
}

/** systemd's normalization and chain_valid: every value in range, every step able to fire at least once. */
function check(list: Component[] | undefined, from: number, to: number, endOfMonth: boolean, field: string): void {
  const last = endOfMonth ? to - 3 : to;
  const unit = field === 'second' ? USEC_PER_SEC : 1;
  const show = (n: number) => String(n / unit);
  for (const x of list ?? []) {
    if (x.stop > x.start && x.repeat > 0) x.stop -= (x.stop - x.start) % x.repeat;
    // A range that holds one value is that value.
    if ((x.stop > x.start && x.start + x.repeat > x.stop) || x.start === x.stop) {
      x.repeat = 0;
      x.stop = -1;
    }
    const range = `${show(from)} to ${show(last)}`;
    if (x.start < from || x.start > last) fail(`has ${field} ${show(x.start)}, outside ${range}`);
    if (x.repeat > last - from) fail(`repeats the ${field} every ${show(x.repeat)}, more than its range ${range} allows`);
    if (x.stop >= 0) {
      if (x.stop < from || x.stop > last) fail(`has ${field} ${show(x.stop)}, outside ${range}`);
      if (x.start + x.repeat > x.stop) fail(`has a ${field} range ${show(x.start)}..${show(x.stop)} that runs backwards`);
    } else if (endOfMonth ? x.start - x.repeat < from : x.start + x.repeat > last) {
      fail(`repeats the ${field} from ${show(x.start)} every ${show(x.repeat)}, which never fires within ${range}`);
    }
  }
}

/** An OnCalendar value of the definition: a calendar expression systemd accepts, as written. */
export function checkSchedule(issues: Issues, path: string, value: unknown, example: string): void {
  if (value === undefined) return;
  // Surrounding white space would be stripped by systemd's unit parser; kept out so the unit shows what was written.
  const why = typeof value !== 'string' ? 'not a string'
    : value.trim() !== value ? 'white space around it' : calendarProblem(value);
  if (why) issues.add(path, value, `is not a calendar expression systemd accepts (${why}); use e.g. "${example}", "hourly", "Mon..Fri *-*-* 02:30:00" or "*:0/15"`);
}
