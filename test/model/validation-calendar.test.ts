import { spawnSync } from 'child_process';
import { validateDefinition } from '../../lib';
import { calendarProblem } from '../../lib/model/validation/calendar';
import { SEED, withChanges } from '../support/clusters';
import { requirePrograms } from '../support/programs';

const tools = requirePrograms(['systemd-analyze']);

/** Expressions systemd 252 accepts (checked below with systemd-analyze calendar when it is installed). */
const VALID = [
  'minutely', 'hourly', 'daily', 'DAILY', 'weekly', 'monthly', 'yearly', 'annually', 'anually', 'quarterly', 'semiannually',
  'semi-annually', 'biannually', 'bi-annually', 'daily UTC', 'daily utc', 'hourly Europe/Berlin',
  '*-*-* 02:30:00', '*-*-* 02:30', '02:30', '2:3', '*:0/15', '*:*:0/5', '*:*', '*-*-*', '*-01-01', '01-01', '2026-12-06',
  '26-12-06', '89-01-01', '2199-12-31', 'Mon *-*-* 03:00', 'Mon 03:00', 'Mon', 'Mon,', 'Monday', 'mon', 'Mon,Wed,Fri',
  'Mon..Fri', 'Mon-Fri', 'Mon..Wed,Fri', 'Sat,Sun 10:00', 'Mon  *-*-*  02:00', 'Mon..Fri *-*-* 02:30:00',
  '*-*-* 00/6:00', '*-*-* 0..23/2:00', '*-*-* 8..17:00', '*-*-* 5..5:00', '*-*-* 5..6/3:00', '*-*-* 0..23/24:00',
  '*-*-* 0..0/5:00', '*-*-* 22/1:00', '*-*-* 0/23:00', '*-*-* 1,2,3:00', '*-02~01', '*-02~03/2', '*-02~28', '*-02~1..3',
  '*-*~01', '*~01', '*-*-* 02:30:59', '*-*-* 02:30:59.999999', '*-*-* 02:30:05.5', '*-*-* *:*:*', '2026-*-* 00:00:00',
  '*-1..6-1', '*-*-1,15', '@0', '@1700000000', '@ 5', '@+5', '@-0', '*-*-* 02:00 Asia/Shanghai', '*-*-* 02:00 GMT',
  '*-*-* 02:00:00 UTC', 'Thu,Fri 2012-*-1,5 11:12:13', '*-*-* 00:00:00.000001',
];

/** Expressions systemd 252 refuses. */
const INVALID = [
  '', ' ', 'UTC', 'nightly', 'every day', 'daily; rm -rf /', 'daily\nExecStart=/bin/sh', '*/5', '*:*/5', '*:0/60',
  '*:0/0', '*-*-* 25:00', '*-*-* 24:00', '*-*-* 02:60', '*-*-* 02:30:60', '*-*-* 02:30:59.9999999', '*-13-01', '*-00-01',
  '*-*-32', '*-*-00', '2200-01-01', '1969-12-31', '*-02~29', '*-02~01/1', '*-02~3..1', '*-*-* 5..4:00', '*-*-* 22/2:00',
  '*-*-* 23/1:00', 'Sun..Mon', 'Mon-', 'Mon.. 02:00', 'Mon..', 'Mon.Fri', 'Mon..Wed..Fri', 'Mond', 'Mo', 'Tues', 'Mon1',
  '*-*-* 02:30:00:00', '*-*-*-*', '*~01-01', '*-*-* 02', '02:', ':30', '*-*-* 2.5:00', '*-*-* 02:30 europe/berlin',
  '*-*-* 02:30 Mars/Olympus', '@', '@x', '@-1', '@99999999999', 'daily\tUTC', '*-*-*\t02:00', '1..2..3-01-01', '1,,2-01-01',
  '*-*-* 02:30:5.', '*-*-* ,02:00',
];

describe('systemd calendar expressions (OnCalendar=), as systemd 252 parses them', () => {
  test.each(VALID)('accepted: %j', (expr) => {
    expect(calendarProblem(expr)).toBeUndefined();
  });

  test.each(INVALID)('refused: %j', (expr) => {
    expect(calendarProblem(expr)).toEqual(expect.any(String));
  });

  (tools.ok ? test : test.skip)('every verdict above is systemd-analyze calendar\'s', () => {
    const verdicts = [...VALID, ...INVALID].map((expr) => {
      const r = spawnSync(tools.path('systemd-analyze'), ['calendar', expr], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
      return [expr, r.status === 0, calendarProblem(expr) === undefined];
    });
    expect(verdicts.filter(([, systemd, ours]) => systemd !== ours)).toEqual([]);
    expect(verdicts.filter(([, systemd]) => systemd).length).toBe(VALID.length);
  });

  (tools.ok ? test : test.skip)('400 expressions made of random pieces get systemd-analyze calendar\'s verdict', () => {
    // A fixed seed: the same corpus every run, so a failure can be reproduced.
    let seed = 21;
    const next = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return Math.floor((seed / 2 ** 31) * n); };
    const pick = (xs: readonly string[]) => xs[next(xs.length)];
    const num = () => pick(['0', '1', '2', '5', '7', '12', '1', '3', '23', '24', '28', '31', '59', '60', '2026', '70', '05', '1.5']);
    const field = (): string => {
      const one = () => pick(['*', '*', '*', num(), num(), num(), `${num()}..${num()}`, `${num()}/${num()}`, `${num()}..${num()}/${num()}`]);
      return next(4) === 0 ? `${one()},${one()}` : one();
    };
    const weekday = () => pick(['', 'Mon ', 'Sun..Sat ', 'Fri-Mon ', 'Tue,Thu ', 'Wed.. ']);
    const corpus = Array.from({ length: 400 }, () => {
      const date = pick(['', `${field()}-${field()}-${field()} `, `${field()}-${field()} `, `${field()}~${field()} `, `*-${field()}~${field()} `]);
      const time = pick([`${field()}:${field()}`, `${field()}:${field()}:${field()}`, '']);
      return `${weekday()}${date}${time}`.trim();
    });
    const disagree = corpus.filter((expr) => {
      const systemd = spawnSync(tools.path('systemd-analyze'), ['calendar', expr], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } }).status === 0;
      return systemd !== (calendarProblem(expr) === undefined);
    });
    expect(disagree).toEqual([]);
    // Both verdicts occur often enough for the comparison to mean something.
    const accepted = corpus.filter((expr) => calendarProblem(expr) === undefined).length;
    expect([accepted >= 20, corpus.length - accepted >= 20]).toEqual([true, true]);
  });

  test('a step list longer than systemd allows is refused, one it allows is accepted', () => {
    const list = (n: number) => `*-*-* *:*:${Array.from({ length: n }, (_, i) => i % 60).join(',')}`;
    expect(calendarProblem(list(241))).toBeUndefined();
    expect(calendarProblem(list(242))).toMatch(/more than 241 values/);
  });

  test('the definition\'s schedule is refused with the field, the value, the reason and examples', () => {
    const issue = (schedule: unknown) => validateDefinition(withChanges(SEED, { etcd: { snapshots: { schedule } } } as never))
      .find((i) => i.path === 'etcd.snapshots.schedule');
    expect(issue('*-*-* 25:00')?.message).toBe('is not a calendar expression systemd accepts (has hour 25, outside 0 to 23); use e.g. "daily", "hourly", "Mon..Fri *-*-* 02:30:00" or "*:0/15"');
    expect(issue('*-02~29')?.message).toMatch(/day counted from the end of the month 29, outside 1 to 28/);
    expect(issue(' daily')?.message).toMatch(/white space around it/);
    expect(issue(3)?.message).toMatch(/not a string/);
    expect(issue('Mon..Fri *-*-* 02:30:00 UTC')).toBeUndefined();
  });
});
