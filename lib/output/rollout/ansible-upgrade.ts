import { HostRole, ClusterModel } from '../../model';
import { HostUpgradeStep, UpgradePlan } from '../../upgrade';
import { minorOf } from '../../versions/kubernetes';
import { removedBetween } from '../../versions/removed-apis';
import { BINARIES_DIR, stagedRoles, stagedVersions } from './fetch-script';
import { HEALTH_WAIT, etcdHealthCommand, healthChecks } from './health';
import { SNAPSHOT_COMMAND } from './runtime-steps';
import {
  EXPIRING_CERTS_COMMAND, UPGRADE_PATHS, apiserverVersionCommand, drainFlags,
} from './upgrade-commands';

/**
 * The upgrade waves in dist/ansible/site.yml, as deploy.sh runs them (lib/output/rollout/upgrade.sh): a preflight from
 * the operator's machine, one play per step and host in the plan's order, and the addons after the ordinary plays.
 * The host-side facts are deploy.sh's (upgrade-commands.ts: each finished step recorded in UPGRADE_PATHS.reached with
 * the plan's target, replaced programs kept under UPGRADE_PATHS.previous), so either tool resumes the other's roll-out.
 *
 * Like install-bundle.yml, a host with an install_root other than / only has its files laid out there: nothing is
 * asked of the live cluster (no kubectl, no health waits, no preflight), but the programs, install.sh --units and the
 * records are the same.
 */

/** A YAML value: strings, numbers and lists as JSON (which YAML reads), maps as nested blocks. */
type Value = string | number | boolean | readonly unknown[] | { readonly [key: string]: Value | undefined };

function lines(fields: { readonly [key: string]: Value | undefined }, indent: string): string[] {
  return Object.entries(fields).flatMap(([key, v]) => {
    if (v === undefined) return [];
    if (typeof v === 'object' && !Array.isArray(v)) return [`${indent}${key}:`, ...lines(v as { [k: string]: Value }, `${indent}  `)];
    return [`${indent}${key}: ${JSON.stringify(v)}`];
  });
}

/** One task of a play's task list. */
function task(fields: { readonly [key: string]: Value | undefined }): string {
  const [first, ...rest] = lines(fields, '      ');
  return [`    - ${first.trimStart()}`, ...rest].join('\n');
}

/** A Jinja string literal (the values put there are host names, versions and paths: no quotes or backslashes). */
function jinja(s: string): string {
  if (/["\\]/.test(s)) throw new Error(`cannot put ${s} into a Jinja string literal`);
  return JSON.stringify(s);
}

/** Builds a list in Jinja: `{% for ... %}` appends `item` to it. Ansible reads the rendered list back as a list. */
function jinjaList(loop: string, item: string): string {
  return `{% set o = [] %}{% for ${loop} %}{% set _ = o.append(${item}) %}{% endfor %}{{ o }}`;
}

const LIVE = "(install_root | default('/')) == '/'";
const ROOT = "(install_root | default('/')) | regex_replace('/+$', '')";

/** kubectl on the operator's machine, as deploy.sh runs it (KUBECTL names another; the cluster's admin kubeconfig). */
const KUBECTL: readonly string[] = [
  "{{ lookup('env', 'KUBECTL') | default('kubectl', true) }}", '--kubeconfig', '{{ playbook_dir }}/../admin.kubeconfig', '--request-timeout=30s',
];
/** kubectl's argv, as a Jinja expression: each argument a literal, or a Jinja expression given as { expr }. */
const kubectl = (...args: (string | { expr: string })[]) => `{{ kubesmith_kubectl + [${args.map((a) => (typeof a === 'string' ? `'${a}'` : a.expr)).join(', ')}] }}`;
const HOST = { expr: 'inventory_hostname' };

/** Every step of the plan, in order. */
export function upgradeSteps(plan: UpgradePlan | undefined): HostUpgradeStep[] {
  return plan ? plan.waves.flatMap((w) => w.steps) : [];
}

/** Where a step's programs come from: binaries/<role>/<path>, the first of the host's staged roles that has it (as deploy.sh). */
function programSources(model: ClusterModel, st: HostUpgradeStep): { path: string; src: string }[] {
  const staged = stagedRoles(model);
  const roles = st.host.roles.filter((r: HostRole) => staged.some((s) => s.role === r));
  return st.programs.map((p) => {
    const role = roles.find((r) => staged.find((s) => s.role === r)!.binaries.some((b) => b.path === p.path));
    if (!role) throw new Error(`${st.host.name}: ${p.path} is in no role's ${BINARIES_DIR}/ (roles ${roles.join(', ')})`);
    return { path: p.path, src: `${BINARIES_DIR}/${role}${p.path}` };
  });
}

/** The hosts that take part in the plan, in order of first appearance. */
function stepHosts(plan: UpgradePlan): string[] {
  return [...new Set(upgradeSteps(plan).map((st) => st.host.name))];
}

/**
 * Tasks that read every apiserver's /version and every Node's kubelet (kubesmith_apiservers, kubesmith_kubelets:
 * name → version). From a localhost play (`fromLocalhost`) the masters are reached over ssh.
 */
function versionTasks(model: ClusterModel, fromLocalhost: boolean): string[] {
  return [
    task({
      name: "every apiserver's /version",
      'ansible.builtin.command': apiserverVersionCommand(model),
      delegate_to: '{{ item }}',
      connection: fromLocalhost ? 'ssh' : undefined,
      loop: model.masters.map((h) => h.name),
      register: 'kubesmith_apis',
      changed_when: false,
      failed_when: false,
      ignore_unreachable: true,
    }),
    task({
      name: "every Node's kubelet",
      'ansible.builtin.command': { argv: kubectl('get', 'nodes', '-o', 'json') },
      delegate_to: fromLocalhost ? undefined : 'localhost',
      register: 'kubesmith_nodes',
      changed_when: false,
    }),
    task({
      name: 'the versions',
      'ansible.builtin.set_fact': {
        kubesmith_apiservers: `{% set o = {} %}{% for r in kubesmith_apis.results %}{% set _ = o.update({r.item: ((r.stdout | from_json).gitVersion if (r.rc | default(1)) == 0 else 'unreachable')}) %}{% endfor %}{{ o }}`,
        kubesmith_kubelets: `{% set o = {} %}{% for n in (kubesmith_nodes.stdout | from_json)['items'] %}{% set _ = o.update({n.metadata.name: n.status.nodeInfo.kubeletVersion}) %}{% endfor %}{{ o }}`,
      },
    }),
  ];
}

/** The minor of a version string like v1.37.2, in Jinja. */
const minorJ = (v: string) => `((${v}).split('.')[1] | default('') | int)`;

/** The version-skew policy on the live cluster (deploy.sh's check_skew): after every step, and after the addons. */
function skewTasks(model: ClusterModel, fromLocalhost: boolean, when?: string): string[] {
  const problems = '{% set m = [] %}{% for v in kubesmith_apiservers.values() %}{% set _ = m.append(' + minorJ('v') + ') %}{% endfor %}'
    + "{% set bad = [] %}{% if (m | max) - (m | min) > 1 %}{% set _ = bad.append('apiservers more than one minor apart') %}{% endif %}"
    + `{% for n, v in kubesmith_kubelets.items() if ${minorJ('v')} > (m | min) %}`
    + "{% set _ = bad.append('the kubelet of ' ~ n ~ ' (' ~ v ~ ') is newer than the oldest apiserver (1.' ~ (m | min) ~ ')') %}{% endfor %}"
    + "{{ bad | join('; ') }}";
  const all = [
    ...versionTasks(model, fromLocalhost),
    task({
      name: 'skew: every apiserver answers /version',
      'ansible.builtin.assert': {
        that: "kubesmith_apiservers.values() | select('equalto', 'unreachable') | list | length == 0",
        fail_msg: "skew: the apiserver does not answer /version on {{ kubesmith_apiservers | dict2items | selectattr('value', 'equalto', 'unreachable') | map(attribute='key') | join(', ') }}",
        quiet: true,
      },
    }),
    task({
      name: 'skew: no kubelet newer than the oldest apiserver, apiservers at most one minor apart',
      'ansible.builtin.assert': {
        that: 'kubesmith_skew | length == 0',
        fail_msg: 'the version-skew policy no longer holds: {{ kubesmith_skew }} (apiservers {{ kubesmith_apiservers }}, kubelets {{ kubesmith_kubelets }})',
        success_msg: 'skew: apiservers {{ kubesmith_apiservers }} | kubelets {{ kubesmith_kubelets }}',
      },
      vars: { kubesmith_skew: problems },
    }),
  ];
  return when ? all.map((t) => `${t}\n      when: ${JSON.stringify(when)}`) : all;
}

/** Ends a localhost play when some host of the plan only has its files laid out under an install_root. */
function laidOutGate(plan: UpgradePlan, what: string): string[] {
  return [
    task({
      name: 'hosts with an install_root (their files laid out there, nothing started)',
      'ansible.builtin.set_fact': {
        kubesmith_laid_out: jinjaList(`h in ${JSON.stringify(stepHosts(plan)).replace(/"/g, "'")} if (hostvars[h].install_root | default('/')) != '/'`, 'h'),
      },
    }),
    task({
      name: `${what}: not asked of the cluster for hosts laid out under an install_root`,
      'ansible.builtin.debug': { msg: `install_root on {{ kubesmith_laid_out | join(', ') }}: ${what} skipped (it asks the live cluster)` },
      when: 'kubesmith_laid_out | length > 0',
    }),
  ];
}

/** The preflight on the operator's machine (deploy.sh's preflight), skipped when every step is recorded done. */
function preflightPlay(model: ClusterModel, plan: UpgradePlan): string {
  const steps = upgradeSteps(plan);
  const from = plan.from.kubernetes;
  const to = plan.to.kubernetes;
  const toMinor = minorOf(to);
  const drains = steps.some((st) => st.drain);
  const first = model.etcdMembers[0].name;
  const removed = removedBetween(minorOf(from), toMinor).flatMap((r) => r.resources.map((resource) => ({ api: r.api, resource })));
  const known = [`v${from}`, `v${to}`].map(jinja).join(', ');
  const listing = steps.map((st, i) => `${i + 1}. ${st.wave}/${st.step} on ${st.host.name}: programs ${st.programs.map((p) => `${p.path} ${p.from} → ${p.to}`).join(', ')}; restart ${st.units.join(', ')}${st.drain ? `; drained first (at most ${model.upgrades.drainTimeoutSeconds} s)` : ''}`);
  const off = '{% set o = [] %}'
    + `{% for n, v in kubesmith_apiservers.items() if v not in [${known}] %}{% set _ = o.append('the apiserver on ' ~ n ~ ' is ' ~ v) %}{% endfor %}`
    + `{% for n, v in kubesmith_kubelets.items() if v not in [${known}] %}{% set _ = o.append('the kubelet of ' ~ n ~ ' is ' ~ v) %}{% endfor %}`
    + '{{ o }}';
  const requested = '{% set o = [] %}'
    + "{% for l in kubesmith_metrics.stdout_lines | default([]) if l.startswith('apiserver_requested_deprecated_apis{') %}"
    + "{% set lab = {} %}{% for kv in l.split('{', 1)[1].split('}', 1)[0].split(',') if '=' in kv %}{% set p = kv.split('=', 1) %}{% set _ = lab.update({p[0]: p[1] | replace('\"', '')}) %}{% endfor %}"
    + `{% if '.' in lab.removed_release | default('') and ${minorJ('lab.removed_release')} <= ${toMinor} %}`
    + "{% set _ = o.append(lab.resource | default('') ~ '.' ~ lab.version | default('') ~ '.' ~ lab.group | default('') ~ ' (requested)') %}{% endif %}{% endfor %}"
    + "{% for r in kubesmith_removed_objects.results | default([]) if (r.rc | default(1)) == 0 and ((r.stdout | from_json)['items'] | default([]) | length) > 0 %}"
    + "{% set _ = o.append(r.item.resource ~ '.' ~ r.item.api ~ ' (objects served)') %}{% endfor %}"
    + '{{ o }}';
  const tasks = [
    task({ name: 'the upgrade', 'ansible.builtin.debug': { msg: [`${plan.changed.map((id) => `${id} ${plan.from[id]} → ${plan.to[id]}`).join(', ')}, in waves (each host's finished steps are recorded in ${UPGRADE_PATHS.reached} and skipped on a re-run):`, ...listing, 'then the ordinary roll-out, and kubectl apply -f addons', `rollback: ${plan.rollback}`] } }),
    task({
      name: `which steps each host recorded done (${UPGRADE_PATHS.reached}/<step>)`,
      'ansible.builtin.slurp': { src: "{{ (hostvars[item.host].install_root | default('/') | regex_replace('/+$', '')) ~ item.record }}" },
      delegate_to: '{{ item.host }}',
      connection: 'ssh',
      loop: steps.map((st) => ({ host: st.host.name, step: st.step, record: `${UPGRADE_PATHS.reached}/${st.step}` })),
      loop_control: { label: '{{ item.host }} {{ item.step }}' },
      register: 'kubesmith_records',
      failed_when: false,
    }),
    task({
      name: 'the steps still to do',
      'ansible.builtin.set_fact': {
        kubesmith_todo: jinjaList(`r in kubesmith_records.results if (r.content | default('') | b64decode | trim) != ${jinja(plan.target)}`, "r.item.host ~ ' ' ~ r.item.step"),
      },
    }),
    task({
      name: `every step is recorded done on its host (${plan.target}): no preflight`,
      'ansible.builtin.meta': 'end_play',
      when: 'kubesmith_todo | length == 0',
    }),
    task({
      name: `the new programs come from ${BINARIES_DIR}/ (fetch-binaries.sh of this synth)`,
      'ansible.builtin.assert': {
        that: `(lookup('ansible.builtin.file', playbook_dir ~ '/../${BINARIES_DIR}/VERSIONS', errors='ignore') | default('', true)) == ${jinja(stagedVersions(model).trim())}`,
        fail_msg: `this synth upgrades (${plan.target}): the new programs must come from ${BINARIES_DIR}/, and ${BINARIES_DIR}/VERSIONS must be what this synth's fetch-binaries.sh stages; run it, and carry ${BINARIES_DIR}/ here`,
        quiet: true,
      },
    }),
    ...laidOutGate(plan, 'the preflight'),
    task({
      name: 'the preflight asks nothing of hosts laid out under an install_root',
      'ansible.builtin.set_fact': { kubesmith_preflight: 'skipped: install_root' },
      when: 'kubesmith_laid_out | length > 0',
    }),
    task({ name: 'no preflight for hosts laid out under an install_root', 'ansible.builtin.meta': 'end_play', when: 'kubesmith_laid_out | length > 0' }),
    ...versionTasks(model, true),
    task({
      name: `every apiserver and kubelet at ${from} or ${to}`,
      'ansible.builtin.assert': {
        that: 'kubesmith_off | length == 0',
        fail_msg: `preflight: {{ kubesmith_off | join('; ') }}; this roll-out goes from ${from} to ${to}: roll out the synth of ${from} first`,
        quiet: true,
      },
      vars: { kubesmith_off: off },
    }),
    task({
      name: "kubectl's version",
      'ansible.builtin.command': { argv: kubectl('version', '--client', '-o', 'json') },
      register: 'kubesmith_client',
      changed_when: false,
      failed_when: false,
    }),
    task({
      name: `kubectl within one minor of 1.${toMinor}`,
      'ansible.builtin.assert': {
        that: [
          "kubesmith_client_minor != ''",
          `kubesmith_client_minor | int >= ${toMinor - 1} and kubesmith_client_minor | int <= ${toMinor + 1}`,
        ],
        fail_msg: `{{ 'preflight: kubectl is 1.' ~ kubesmith_client_minor ~ ', outside the skew window of 1.${toMinor} (1.${toMinor - 1} to 1.${toMinor + 1}); set KUBECTL to one inside it' if kubesmith_client_minor != '' else "preflight: '" ~ kubesmith_kubectl[0] ~ " version --client' says no minor; set KUBECTL to a kubectl of 1.${toMinor - 1} to 1.${toMinor + 1}" }}`,
        quiet: true,
      },
      vars: {
        kubesmith_client_minor: "{{ (((kubesmith_client.stdout | from_json).clientVersion.minor | default('')) if (kubesmith_client.stdout | trim).startswith('{') else '') | regex_replace('[^0-9]', '') }}",
      },
    }),
    task({
      name: 'clients still requesting deprecated APIs (apiserver_requested_deprecated_apis)',
      'ansible.builtin.command': { argv: kubectl('get', '--raw', '/metrics') },
      register: 'kubesmith_metrics',
      changed_when: false,
      failed_when: false,
    }),
    ...(removed.length > 0 ? [task({
      name: `objects of APIs 1.${toMinor} no longer serves`,
      'ansible.builtin.command': { argv: kubectl('get', '--raw', { expr: "'/apis/' ~ item.api ~ '/' ~ item.resource" }) },
      loop: removed,
      register: 'kubesmith_removed_objects',
      changed_when: false,
      failed_when: false,
    })] : []),
    task({
      name: `no API that 1.${toMinor} removed is in use`,
      'ansible.builtin.assert': {
        that: 'kubesmith_removed | length == 0',
        fail_msg: `preflight: APIs Kubernetes 1.${toMinor} no longer serves are still in use: {{ kubesmith_removed | join(', ') }}; move their clients and manifests to the current APIs first (https://kubernetes.io/docs/reference/using-api/deprecation-guide/)`,
        quiet: true,
      },
      vars: { kubesmith_removed: requested },
    }),
    ...(drains ? [
      task({
        name: 'the PodDisruptionBudgets',
        'ansible.builtin.command': { argv: kubectl('get', 'pdb', '--all-namespaces', '-o', 'json') },
        register: 'kubesmith_pdbs',
        changed_when: false,
      }),
      task({
        name: 'each PodDisruptionBudget allows a disruption (a drain would wait on it until it times out)',
        'ansible.builtin.assert': {
          that: 'kubesmith_blocking | length == 0',
          fail_msg: "preflight: these PodDisruptionBudgets allow no disruption now, so a drain would wait on them until it times out: {{ kubesmith_blocking | join(', ') }}; scale their workloads up or relax them first",
          quiet: true,
        },
        vars: {
          kubesmith_blocking: jinjaList(
            "p in (kubesmith_pdbs.stdout | from_json)['items'] if ((p.status | default({})).disruptionsAllowed | default(0)) == 0 and ((p.status | default({})).expectedPods | default(0)) > 0",
            "p.metadata.namespace ~ '/' ~ p.metadata.name",
          ),
        },
      }),
    ] : []),
    task({
      name: 'certificates that expire within 30 days, on every host',
      'ansible.builtin.shell': EXPIRING_CERTS_COMMAND,
      delegate_to: '{{ item }}',
      connection: 'ssh',
      loop: model.hosts.map((h) => h.name),
      register: 'kubesmith_certs',
      changed_when: false,
    }),
    task({
      name: 'hosts without openssl (their certificates are not checked)',
      'ansible.builtin.debug': { msg: "warning: no openssl on {{ kubesmith_certs.results | selectattr('stdout', 'equalto', 'no-openssl') | map(attribute='item') | join(', ') }}: their certificates' lifetimes are not checked" },
      when: "kubesmith_certs.results | selectattr('stdout', 'equalto', 'no-openssl') | list | length > 0",
    }),
    task({
      name: 'no certificate expires within 30 days (a restart in the upgrade would fail on it)',
      'ansible.builtin.assert': {
        that: 'kubesmith_expiring | length == 0',
        fail_msg: "preflight: certificates that expire within 30 days (a restart in the upgrade would fail on them): {{ kubesmith_expiring | join('; ') }}; renew them (npm run certs -- renew), synth and roll out first",
        quiet: true,
      },
      vars: { kubesmith_expiring: jinjaList("r in kubesmith_certs.results if (r.stdout | trim) not in ['', 'no-openssl']", "r.item ~ ': ' ~ (r.stdout | trim)") },
    }),
    task({
      name: `an etcd snapshot on ${first} (what a minor rollback restores)`,
      'ansible.builtin.command': SNAPSHOT_COMMAND,
      delegate_to: first,
      connection: 'ssh',
      register: 'kubesmith_snapshot',
    }),
    task({
      name: 'copy it here, to snapshots/',
      'ansible.builtin.fetch': { src: '{{ kubesmith_snapshot.stdout_lines | last }}', dest: '{{ playbook_dir }}/../snapshots/', flat: true },
      delegate_to: first,
      connection: 'ssh',
    }),
    task({
      name: 'where it is',
      'ansible.builtin.debug': { msg: `etcd snapshot: dist/snapshots/{{ (kubesmith_snapshot.stdout_lines | last) | basename }} (restore.yml -e snapshot=... rolls a minor back; it holds every Secret, keep it safe)` },
    }),
    task({ name: 'the preflight passed', 'ansible.builtin.set_fact': { kubesmith_preflight: 'passed' } }),
  ];
  return localhostPlay(`upgrade preflight: ${from} → ${to}`, tasks, true);
}

/** A play on the operator's machine, with its kubectl. */
function localhostPlay(name: string, tasks: readonly string[], anyErrorsFatal = false): string {
  return `- name: ${JSON.stringify(name)}
  hosts: localhost
  connection: local
  gather_facts: false
${anyErrorsFatal ? '  any_errors_fatal: true\n' : ''}${lines({ vars: { kubesmith_kubectl: KUBECTL } }, '  ').join('\n')}
  tasks:
${tasks.join('\n\n')}
`;
}

/** One step on one host (deploy.sh's upgrade_run, for one entry). */
function stepPlay(model: ClusterModel, plan: UpgradePlan, st: HostUpgradeStep, index: number, count: number): string {
  const record = `{{ kubesmith_root }}${UPGRADE_PATHS.reached}/${st.step}`;
  const drainTimeout = model.upgrades.drainTimeoutSeconds;
  const live = 'kubesmith_live | bool';
  const first = model.etcdMembers[0].name;
  const checks = st.units.flatMap((u) => healthChecks(model).filter((c) => c.unit === u));
  const tasks = [
    task({ name: `is ${st.step} recorded done here`, 'ansible.builtin.slurp': { src: record }, register: 'kubesmith_record', failed_when: false }),
    task({
      name: `${st.step} done before (${plan.target})`,
      'ansible.builtin.meta': 'end_host',
      when: `(kubesmith_record.content | default('') | b64decode | trim) == ${jinja(plan.target)}`,
    }),
    task({
      name: 'the preflight ran in this run',
      'ansible.builtin.assert': {
        that: "hostvars['localhost'].kubesmith_preflight is defined",
        fail_msg: 'the upgrade preflight did not run (site.yml with --limit?): the upgrade goes through every host in waves after its preflight; run site.yml without --limit (the steps recorded done are skipped)',
        quiet: true,
      },
    }),
    ...(st.drain ? [
      task({ name: 'cordon', 'ansible.builtin.command': { argv: kubectl('cordon', HOST) }, delegate_to: 'localhost', when: live }),
      task({
        name: `drain (at most ${drainTimeout} s)`,
        'ansible.builtin.command': { argv: kubectl('drain', HOST, ...drainFlags(model)) },
        delegate_to: 'localhost',
        register: 'kubesmith_drain',
        failed_when: false,
        when: live,
      }),
      task({
        name: 'the pods still on this node',
        'ansible.builtin.command': { argv: kubectl('get', 'pods', '--all-namespaces', '--field-selector', { expr: "'spec.nodeName=' ~ inventory_hostname" }, '-o', 'json') },
        delegate_to: 'localhost',
        register: 'kubesmith_left',
        changed_when: false,
        failed_when: false,
        when: `${live} and kubesmith_drain.rc != 0`,
      }),
      task({
        name: 'the drain finished',
        'ansible.builtin.fail': {
          msg: `{{ inventory_hostname }}: the drain did not finish within ${drainTimeout}s; still on it: {{ kubesmith_pods | join(' ') if kubesmith_pods else '(could not list)' }}. A PodDisruptionBudget that allows no disruption, or a pod that ignores its termination, holds it. {{ inventory_hostname }} stays cordoned; fix that and run site.yml again (finished steps are skipped)`,
        },
        vars: {
          kubesmith_pods: jinjaList(
            "p in ((kubesmith_left.stdout | from_json)['items'] if kubesmith_left.rc == 0 else []) if ((p.metadata.ownerReferences | default([{}]))[0].kind | default('')) != 'DaemonSet'",
            "p.metadata.namespace ~ '/' ~ p.metadata.name",
          ),
        },
        when: `${live} and kubesmith_drain.rc != 0`,
      }),
    ] : []),
    '    - ansible.builtin.import_tasks: stage-bundle.yml',
    task({
      name: `this step's programs: ${st.programs.map((p) => `${p.path} ${p.from} → ${p.to}`).join(', ')}`,
      'ansible.builtin.set_fact': { kubesmith_step_programs: programSources(model, st) },
    }),
    task({
      name: 'their directories',
      'ansible.builtin.file': { path: '{{ kubesmith_root }}{{ item | dirname }}', state: 'directory' },
      loop: [...new Set(st.programs.map((p) => p.path))],
    }),
    task({ name: 'which of them are there', 'ansible.builtin.stat': { path: '{{ kubesmith_root }}{{ item.path }}', get_checksum: false }, loop: '{{ kubesmith_step_programs }}', register: 'kubesmith_present' }),
    task({
      name: `which of them differ from ${BINARIES_DIR}/ (by checksum)`,
      'ansible.builtin.copy': { src: '{{ playbook_dir }}/../{{ item.src }}', dest: '{{ kubesmith_root }}{{ item.path }}', mode: 'preserve' },
      loop: '{{ kubesmith_step_programs }}',
      check_mode: true,
      register: 'kubesmith_differ',
    }),
    task({
      name: 'the programs this step replaces',
      'ansible.builtin.set_fact': {
        kubesmith_replaced: jinjaList('d, p in kubesmith_differ.results | zip(kubesmith_present.results) if d.changed and p.stat.exists', 'd.item.path'),
      },
    }),
    task({
      name: `keep them in ${UPGRADE_PATHS.previous} (a patch rollback rolls out the previous synth)`,
      'ansible.builtin.file': { path: `{{ kubesmith_root }}${UPGRADE_PATHS.previous}{{ item | dirname }}`, state: 'directory' },
      loop: '{{ kubesmith_replaced }}',
    }),
    task({
      name: `copy them to ${UPGRADE_PATHS.previous}`,
      'ansible.builtin.copy': { src: '{{ kubesmith_root }}{{ item }}', dest: `{{ kubesmith_root }}${UPGRADE_PATHS.previous}{{ item }}`, remote_src: true, mode: 'preserve' },
      loop: '{{ kubesmith_replaced }}',
    }),
    task({
      name: `copy the new programs from ${BINARIES_DIR}/ (only those that differ: the copy compares checksums)`,
      'ansible.builtin.copy': { src: '{{ playbook_dir }}/../{{ item.src }}', dest: '{{ kubesmith_root }}{{ item.path }}', mode: 'preserve' },
      loop: '{{ kubesmith_step_programs }}',
    }),
    task({
      name: `install.sh --units ${st.units.join(',')}`,
      'ansible.builtin.command': {
        argv: `{{ [kubesmith_staging | default('/root/kubesmith') ~ '/bundle/install.sh', '--units', ${jinja(st.units.join(',')).replace(/"/g, "'")}] + ([] if ${LIVE} else ['--root', install_root]) }}`,
      },
      register: 'kubesmith_install',
      changed_when: "'nothing changed' not in kubesmith_install.stdout",
    }),
    ...checks.map((c) => task({
      name: `wait for ${c.what}`,
      'ansible.builtin.shell': c.command,
      register: 'kubesmith_health',
      until: 'kubesmith_health.rc == 0',
      retries: HEALTH_WAIT.tries,
      delay: HEALTH_WAIT.delaySeconds,
      changed_when: false,
      when: live,
    })),
    ...(st.wave === 'etcd' ? [task({
      name: `wait for the etcd cluster's health (from ${first})`,
      'ansible.builtin.command': etcdHealthCommand(model),
      delegate_to: first,
      register: 'kubesmith_cluster_health',
      until: 'kubesmith_cluster_health.rc == 0',
      retries: HEALTH_WAIT.tries,
      delay: HEALTH_WAIT.delaySeconds,
      changed_when: false,
      when: live,
    })] : []),
    ...(st.wave === 'node' ? [task({
      name: `wait for the Node to be Ready with kubelet v${plan.to.kubernetes}`,
      'ansible.builtin.command': { argv: kubectl('get', 'node', HOST, '-o', 'json') },
      delegate_to: 'localhost',
      register: 'kubesmith_node',
      until: `kubesmith_node.rc == 0 and (kubesmith_node.stdout | from_json).status.nodeInfo.kubeletVersion == ${jinja(`v${plan.to.kubernetes}`)} and ((kubesmith_node.stdout | from_json).status.conditions | selectattr('type', 'equalto', 'Ready') | map(attribute='status') | first | default('')) == 'True'`,
      retries: HEALTH_WAIT.tries,
      delay: HEALTH_WAIT.delaySeconds,
      changed_when: false,
      when: live,
    })] : []),
    ...(st.drain ? [task({ name: 'uncordon', 'ansible.builtin.command': { argv: kubectl('uncordon', HOST) }, delegate_to: 'localhost', when: live })] : []),
    task({ name: 'record the step done', 'ansible.builtin.file': { path: `{{ kubesmith_root }}${UPGRADE_PATHS.reached}`, state: 'directory' } }),
    task({ name: `write ${UPGRADE_PATHS.reached}/${st.step}.new`, 'ansible.builtin.copy': { content: `${plan.target}\n`, dest: `${record}.new`, mode: '0644' } }),
    task({ name: `move it to ${UPGRADE_PATHS.reached}/${st.step}`, 'ansible.builtin.command': { argv: ['mv', `${record}.new`, record] } }),
    ...skewTasks(model, false, live),
  ];
  return `- name: ${JSON.stringify(`upgrade ${index + 1}/${count}: ${st.wave} wave, ${st.step} on ${st.host.name}`)}
  hosts: ${JSON.stringify(st.host.name)}
  gather_facts: false
${lines({
    vars: {
      kubesmith_upgrade: { wave: st.wave, step: st.step, units: st.units, drain: st.drain, target: plan.target },
      kubesmith_live: `{{ ${LIVE} }}`,
      kubesmith_root: `{{ ${ROOT} }}`,
      kubesmith_kubectl: KUBECTL,
    },
  }, '  ').join('\n')}
  tasks:
${tasks.join('\n\n')}
`;
}

/** The plays that go before the ordinary ones: the preflight, then one per step and host in the plan's order. */
export function renderUpgradePlays(model: ClusterModel, plan: UpgradePlan | undefined): string {
  const steps = upgradeSteps(plan);
  if (!plan || steps.length === 0) return '';
  return [preflightPlay(model, plan), ...steps.map((st, i) => stepPlay(model, plan, st, i, steps.length))].join('\n');
}

/** The play after the ordinary ones: the addons of the new version, then the version skew (deploy.sh does the same). */
export function renderUpgradeAddonsPlay(model: ClusterModel, plan: UpgradePlan | undefined): string {
  if (!plan || upgradeSteps(plan).length === 0) return '';
  const tasks = [
    ...laidOutGate(plan, 'the addons'),
    task({ name: 'no addons for hosts laid out under an install_root', 'ansible.builtin.meta': 'end_play', when: 'kubesmith_laid_out | length > 0' }),
    task({
      name: 'kubectl apply -f addons',
      'ansible.builtin.command': { argv: kubectl('apply', '-f', { expr: "playbook_dir ~ '/../addons'" }) },
      register: 'kubesmith_addons',
      changed_when: "kubesmith_addons.stdout_lines | reject('search', ' unchanged$') | list | length > 0",
    }),
    ...skewTasks(model, true),
  ];
  return localhostPlay(`upgrade: the addons of ${plan.to.kubernetes}, then the version skew`, tasks);
}
