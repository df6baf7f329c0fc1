/** A systemd unit file, rendered section by section in a fixed order so output is stable. */
export interface SystemdUnitProps {
  readonly unit: Readonly<Record<string, string | readonly string[]>>;
  /** A service unit's [Service]; a timer has [Timer] instead. */
  readonly service?: Readonly<Record<string, string | readonly string[]>>;
  readonly timer?: Readonly<Record<string, string | readonly string[]>>;
  /** Empty: no [Install] (a service only its timer starts). @default { WantedBy: 'multi-user.target' } */
  readonly install?: Readonly<Record<string, string | readonly string[]>>;
}

export function renderUnit(props: SystemdUnitProps): string {
  const section = (name: string, entries: Readonly<Record<string, string | readonly string[]>>) => [
    `[${name}]`,
    ...Object.entries(entries).flatMap(([k, v]) => (typeof v === 'string' ? [v] : v).map((x) => `${k}=${x}`)),
  ].join('\n');
  const install = props.install ?? { WantedBy: 'multi-user.target' };
  return `${[
    section('Unit', props.unit),
    ...(props.service ? [section('Service', props.service)] : []),
    ...(props.timer ? [section('Timer', props.timer)] : []),
    ...(Object.keys(install).length > 0 ? [section('Install', install)] : []),
  ].join('\n\n')}\n`;
}

export interface ScheduledJobProps {
  /** The service's Description; the timer's adds the schedule. */
  readonly description: string;
  /** A systemd OnCalendar expression. */
  readonly schedule: string;
  /** The service unit's name, which the timer starts. */
  readonly service: string;
  /** The oneshot's command line. */
  readonly execStart: string;
  /** More [Unit] entries of the service (Documentation, After). @default none */
  readonly unit?: Readonly<Record<string, string>>;
  /** Spreads the runs of many hosts: the timer's RandomizedDelaySec. @default none */
  readonly randomizedDelay?: string;
}

/** A oneshot service and the timer that starts it on schedule; the timer is what install.sh enables. */
export function renderScheduledJob(props: ScheduledJobProps): { readonly service: string; readonly timer: string } {
  return {
    service: renderUnit({
      unit: { Description: props.description, ...props.unit },
      service: { Type: 'oneshot', ExecStart: props.execStart },
      // Started by its timer only.
      install: {},
    }),
    timer: renderUnit({
      unit: { Description: `${props.description}, ${props.schedule}` },
      timer: {
        OnCalendar: props.schedule,
        ...(props.randomizedDelay ? { RandomizedDelaySec: props.randomizedDelay } : {}),
        // A run missed while the machine was off happens at the next boot.
        Persistent: 'true',
        Unit: props.service,
      },
      install: { WantedBy: 'timers.target' },
    }),
  };
}

/** Flags as '--name=value', in the order given; `true` renders a bare '--name'. */
export type Flags = ReadonlyArray<readonly [string, string | number | boolean]>;

export function renderFlags(flags: Flags): string[] {
  return flags.map(([name, value]) => (value === true ? `--${name}` : `--${name}=${value}`));
}

/**
 * The tutorial's option file: one shell variable holding every flag, one per line,
 * read by the unit as EnvironmentFile and expanded as $VAR in ExecStart.
 */
export function renderOptionFile(variable: string, flags: Flags): string {
  const lines = renderFlags(flags);
  for (const l of lines) {
    if (/["\\$`\s]/.test(l)) throw new Error(`flag ${l} holds a character that cannot be written to an option file`);
  }
  return `${variable}="${lines.join(' \\\n')}"\n`;
}

/** A component started the tutorial's way: its flags in an option file, expanded in ExecStart. */
export interface OptionFileComponent {
  readonly binary: string;
  readonly optionFile: string;
  readonly optionVariable: string;
}

/** The [Service] section of such a component; `first` entries (e.g. Type) come before the common ones. */
export function optionFileService(c: OptionFileComponent, first: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    ...first,
    EnvironmentFile: c.optionFile,
    ExecStart: `${c.binary} $${c.optionVariable}`,
    Restart: 'on-failure',
    RestartSec: '5',
    LimitNOFILE: '65536',
  };
}
