import * as fs from 'fs';
import * as path from 'path';
import { Construct } from 'constructs';
import { Cluster, HostBundle, componentSpec, renderScheduledJob, runsOn, unitOf } from '../lib/components';
import { CA_WARN_WITHIN_DAYS, CERT_RENEW_WITHIN_DAYS, ClusterModel, PATHS } from '../lib/model';
import { certificateFilesOf } from '../lib/pki';
import { KUBELET } from './kubelet';

export const CERT_CHECK = {
  script: `${PATHS.kubesmithBin}/cert-check.sh`,
  config: `${PATHS.kubesmithCfg}/cert-check.conf`,
  /** The timer is the component table's unit; it starts this service on schedule. */
  service: 'kubesmith-cert-check.service',
  serviceUnit: `${PATHS.systemdUnits}/kubesmith-cert-check.service`,
  timerUnit: `${PATHS.systemdUnits}/${unitOf('cert-check')}`,
  /** The metric file, in the definition's textfile directory. */
  textfile: 'kubesmith_certificates.prom',
} as const;

// A real script (shellcheck reads it); the host's list comes in its config.
const SCRIPT = fs.readFileSync(path.join(__dirname, 'cert-check.sh'), 'utf8');

interface CheckedCertificate {
  readonly name: string;
  readonly path: string;
  readonly warnDays: number;
  /** The kubelet writes its own only once it has bootstrapped. */
  readonly required: boolean;
}

/** The certificates a host holds, its CAs' and the kubelet's own included, in table order. */
export function checkedCertificates(bundle: HostBundle, model: ClusterModel): CheckedCertificate[] {
  const table = certificateFilesOf(bundle.host).filter((f) => bundle.hasFile(f.path)).map((f) => ({
    name: f.id as string, path: f.path, required: true, warnDays: f.isCa ? CA_WARN_WITHIN_DAYS : CERT_RENEW_WITHIN_DAYS,
  }));
  const kubelet = runsOn(componentSpec('kubelet'), bundle.host, model) ? [
    { name: 'kubelet-client', path: KUBELET.clientCertificate, warnDays: CERT_RENEW_WITHIN_DAYS, required: false },
    { name: 'kubelet-serving', path: KUBELET.servingCertificate, warnDays: CERT_RENEW_WITHIN_DAYS, required: false },
  ] : [];
  return [...table, ...kubelet];
}

/** The check's config for one host: named fields, one certificate per line. */
export function renderCertCheckConfig(bundle: HostBundle, model: ClusterModel): string {
  const plain = (s: string) => {
    if (!/^[A-Za-z0-9@._/-]+$/.test(s)) throw new Error(`cert-check: "${s}" holds characters the config cannot carry`);
    return s;
  };
  return [
    `# kubesmith cert-check for ${bundle.host.name}: the certificates it holds. Generated: edit the cluster definition instead.`,
    `textfile=${plain(path.posix.join(model.certificates.expiryCheck.textfileDirectory, CERT_CHECK.textfile))}`,
    ...checkedCertificates(bundle, model).map((c) =>
      `cert name=${plain(c.name)} path=${plain(c.path)} warn-days=${c.warnDays} required=${c.required ? 1 : 0}`),
    '',
  ].join('\n');
}

/** kubesmith-cert-check.timer and .service on every host that holds certificates, unless the definition opts out. */
export class CertCheck extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const cluster = Cluster.of(this);
    const { model } = cluster;
    const check = model.certificates.expiryCheck;
    if (!check.enabled) return;
    const { service, timer } = renderScheduledJob({
      description: componentSpec('cert-check').description,
      schedule: check.schedule,
      service: CERT_CHECK.service,
      execStart: `${CERT_CHECK.script} --config ${CERT_CHECK.config}`,
      // Hosts do not all read their disks at the same second.
      randomizedDelay: '1h',
    });
    for (const bundle of cluster.placeComponent('cert-check')) {
      bundle.addFile(CERT_CHECK.script, SCRIPT, { mode: 0o755 });
      bundle.addFile(CERT_CHECK.config, renderCertCheckConfig(bundle, model));
      bundle.addFile(CERT_CHECK.serviceUnit, service);
      bundle.addFile(CERT_CHECK.timerUnit, timer);
    }
  }
}
