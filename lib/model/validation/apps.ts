import { RESERVED_NAMESPACES } from '../constants';
import { DEFAULTS } from '../defaults';
import { AppDefinition, AppVolumeDefinition, NFS_ACCESS_MODES } from '../definition';
import { parseImageReference } from '../images';
import { isIpv4, unusableHostAddress } from '../ipv4';
import { parseQuantity } from '../quantity';
import { DefinitionIssue, Issues } from './issue';
import {
  DNS1035_LABEL, DNS1123_LABEL, DNS1123_SUBDOMAIN, ENV_NAME, MAX_REPLICAS, checkBoolean, isAbsolutePath, isPort, isRecord,
} from './values';
import { DefinitionView } from './view';

/** apps: names, namespaces, images, ports, resources, env, Ingress host and TLS, across apps. */
export function appRules({ d }: DefinitionView): DefinitionIssue[] {
  const issues = new Issues();
  if (d.apps === undefined) return issues.list;
  if (!Array.isArray(d.apps)) {
    issues.add('apps', d.apps, 'must be a list of apps');
    return issues.list;
  }
  const appNames = new Map<string, number>();
  const hosts = new Map<string, number>();
  const pvNames = new Map<string, string>();
  d.apps.forEach((app: AppDefinition, i: number) => {
    const p = `apps[${i}]`;
    if (typeof app?.name !== 'string' || !DNS1035_LABEL.test(app.name)) {
      issues.add(`${p}.name`, app?.name, 'is not an RFC 1035 label (it names a Service); start with a letter, then lowercase letters, digits and "-", e.g. "java-demo"');
    } else if (appNames.has(app.name)) {
      issues.add(`${p}.name`, app.name, `duplicates apps[${appNames.get(app.name)}].name; every app needs its own name`);
    } else appNames.set(app.name, i);
    if (app?.namespace !== undefined) {
      if (typeof app.namespace !== 'string' || !DNS1123_LABEL.test(app.namespace)) {
        issues.add(`${p}.namespace`, app.namespace, 'is not an RFC 1123 label; use lowercase letters, digits and "-", e.g. "java-demo"');
      } else if (RESERVED_NAMESPACES.includes(app.namespace)) {
        issues.add(`${p}.namespace`, app.namespace, `is reserved for the system or an addon; pick another, e.g. "${app.name ?? 'my-app'}"`);
      }
    } else if (typeof app?.name === 'string' && RESERVED_NAMESPACES.includes(app.name)) {
      issues.add(`${p}.namespace`, undefined, `defaults to the app name "${app.name}", which is reserved; set namespace explicitly`);
    }
    if (!parseImageReference(app?.image)) {
      issues.add(`${p}.image`, app?.image, 'is not an image reference; expected [registry/]repository[:tag][@digest], e.g. "tomcat:8.5-jre8"');
    }
    checkBoolean(issues, `${p}.useImageRegistry`, app?.useImageRegistry);
    if (app?.replicas !== undefined && !(Number.isInteger(app.replicas) && app.replicas >= 0 && app.replicas <= MAX_REPLICAS)) {
      issues.add(`${p}.replicas`, app.replicas, `must be a whole number of 0 or more, at most ${MAX_REPLICAS}, e.g. 3`);
    }
    if (app?.containerPort !== undefined && !isPort(app.containerPort)) {
      issues.add(`${p}.containerPort`, app.containerPort, `is not a port; use an integer from 1 to 65535, e.g. ${DEFAULTS.app.containerPort}`);
    }
    if (app?.probePath !== undefined && (typeof app.probePath !== 'string' || !/^\/[\x21-\x7e]{0,2047}$/.test(app.probePath))) {
      issues.add(`${p}.probePath`, app.probePath, 'is not a URL path; start with "/", at most 2048 printable ASCII characters without spaces, e.g. "/healthz"');
    }
    resourceRules(issues, p, app);
    if (app?.env !== undefined && !isRecord(app.env)) issues.add(`${p}.env`, app.env, 'must be an object of variable names and string values, e.g. { JAVA_OPTS: "-Xmx512m" }');
    for (const [k, v] of Object.entries(isRecord(app?.env) ? app.env : {})) {
      if (!ENV_NAME.test(k)) issues.add(`${p}.env["${k}"]`, k, 'is not an environment variable name; use letters, digits, "_", "-", "." and do not start with a digit');
      if (typeof v !== 'string') issues.add(`${p}.env["${k}"]`, v, 'must be a string, e.g. "1"');
    }
    if (app?.host !== undefined) {
      if (typeof app.host !== 'string' || !DNS1123_SUBDOMAIN.test(app.host.replace(/^\*\./, ''))) {
        issues.add(`${p}.host`, app.host, 'is not a DNS name; use lowercase labels separated by dots, e.g. "java.example.com"');
      } else if (hosts.has(app.host)) {
        issues.add(`${p}.host`, app.host, `is already served by apps[${hosts.get(app.host)}]; every app needs its own host`);
      } else hosts.set(app.host, i);
      if (d.addons?.ingressNginx?.enabled === false) {
        issues.add(`${p}.host`, app.host, 'needs the ingress controller; remove host or set addons.ingressNginx.enabled to true');
      }
    }
    if (app?.tls?.secretName !== undefined && (typeof app.tls.secretName !== 'string' || !DNS1123_SUBDOMAIN.test(app.tls.secretName))) {
      issues.add(`${p}.tls.secretName`, app.tls.secretName, 'is not a Secret name; use lowercase letters, digits, "-" and ".", e.g. "java-demo-tls"');
    }
    if (app?.tls !== undefined && app.host === undefined) {
      issues.add(`${p}.tls`, app.tls, 'is set but the app has no host; TLS needs an Ingress host');
    }
    checkBoolean(issues, `${p}.sslRedirect`, app?.sslRedirect);
    volumeRules(issues, p, app, pvNames);
  });
  return issues.list;
}

function resourceRules(issues: Issues, p: string, app: AppDefinition): void {
  for (const kind of ['requests', 'limits'] as const) {
    for (const res of ['cpu', 'memory'] as const) {
      const v = app?.resources?.[kind]?.[res];
      if (v !== undefined && (parseQuantity(v) === undefined || parseQuantity(v) === 0)) {
        issues.add(`${p}.resources.${kind}.${res}`, v, `is not a positive Kubernetes quantity, e.g. "${res === 'cpu' ? '500m' : '512Mi'}"`);
      }
    }
  }
  for (const res of ['cpu', 'memory'] as const) {
    const request = app?.resources?.requests?.[res] ?? DEFAULTS.app.resources.requests[res];
    const limit = app?.resources?.limits?.[res] ?? DEFAULTS.app.resources.limits[res];
    const req = parseQuantity(request);
    const lim = parseQuantity(limit);
    if (req !== undefined && lim !== undefined && req > lim) {
      issues.add(`${p}.resources.requests.${res}`, request, `exceeds the limit ${limit}; a request may not exceed its limit`);
    }
  }
}

/** The NFS volumes of one app; PersistentVolume names (`<app>-<volume>`) are checked across apps. */
function volumeRules(issues: Issues, p: string, app: AppDefinition, pvNames: Map<string, string>): void {
  if (app?.volumes === undefined) return;
  if (!Array.isArray(app.volumes)) {
    issues.add(`${p}.volumes`, app.volumes, 'must be a list of volumes');
    return;
  }
  const volNames = new Map<string, number>();
  const mounts = new Map<string, number>();
  let perPod = false;
  (app.volumes as readonly AppVolumeDefinition[]).forEach((v, j) => {
    const q = `${p}.volumes[${j}]`;
    if (typeof v?.name !== 'string' || !DNS1123_LABEL.test(v.name)) {
      issues.add(`${q}.name`, v?.name, 'is not an RFC 1123 label; use lowercase letters, digits and "-", e.g. "webapps"');
    } else if (volNames.has(v.name)) {
      issues.add(`${q}.name`, v.name, `duplicates ${p}.volumes[${volNames.get(v.name)}].name`);
    } else {
      volNames.set(v.name, j);
      const pv = `${app.name}-${v.name}`;
      if (pvNames.has(pv)) issues.add(`${q}.name`, v.name, `gives the PersistentVolume name "${pv}", which ${pvNames.get(pv)} already takes; rename one`);
      else pvNames.set(pv, q);
    }
    if (!isAbsolutePath(v?.mountPath) || v.mountPath === '/') {
      issues.add(`${q}.mountPath`, v?.mountPath, 'is not an absolute directory in the container, e.g. "/usr/local/tomcat/webapps"');
    } else if (mounts.has(v.mountPath.replace(/\/+$/, ''))) {
      issues.add(`${q}.mountPath`, v.mountPath, `is already mounted by ${p}.volumes[${mounts.get(v.mountPath.replace(/\/+$/, ''))}]`);
    } else mounts.set(v.mountPath.replace(/\/+$/, ''), j);
    // A dotted quad that is no valid IPv4 address is a typo, not a host name.
    if (!isIpv4(v?.server) && !(typeof v?.server === 'string' && DNS1123_SUBDOMAIN.test(v.server) && !/^[\d.]+$/.test(v.server))) {
      issues.add(`${q}.server`, v?.server, 'is not an NFS server address; use an IPv4 address or host name, e.g. "192.168.100.40"');
    }
    else if (isIpv4(v.server) && unusableHostAddress(v.server)) {
      issues.add(`${q}.server`, v.server, `is ${unusableHostAddress(v.server)}, which pods cannot mount from; use the NFS server's own address, e.g. "192.168.100.40"`);
    }
    if (!isAbsolutePath(v?.path)) issues.add(`${q}.path`, v?.path, 'is not an absolute export path, e.g. "/data/nfs/java-demo/webapps"');
    if (v?.size !== undefined && !parseQuantity(v.size)) {
      issues.add(`${q}.size`, v.size, `is not a positive storage quantity, e.g. "${DEFAULTS.volume.size}"`);
    }
    if (v?.accessMode !== undefined && !NFS_ACCESS_MODES.includes(v.accessMode)) {
      issues.add(`${q}.accessMode`, v.accessMode, `is not an access mode; use one of ${NFS_ACCESS_MODES.join(', ')}`);
    }
    checkBoolean(issues, `${q}.readOnly`, v?.readOnly);
    checkBoolean(issues, `${q}.perPod`, v?.perPod);
    if (v?.perPod === true) perPod = true;
    if (v?.mountOptions !== undefined && (!Array.isArray(v.mountOptions)
      || v.mountOptions.some((o: unknown) => typeof o !== 'string' || !/^[^\s,]+$/.test(o)))) {
      issues.add(`${q}.mountOptions`, v.mountOptions, 'must be a list of single NFS options without spaces or commas, e.g. ["nfsvers=4.1"]');
    }
  });
  if (perPod && app.env?.POD_NAME !== undefined) {
    issues.add(`${p}.env["POD_NAME"]`, app.env.POD_NAME, 'is set by kubesmith for per-pod volumes; remove it');
  }
}
