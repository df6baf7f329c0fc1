import { BUILTIN_NAMESPACES } from './constants';
import { DEFAULTS } from './defaults';
import { AddonsDefinition, AppDefinition } from './definition';
import { IMAGES, mirrorImage } from './images';

export interface ResolvedVolume {
  readonly name: string;
  /** Name of both the PersistentVolume and its claim: `<app>-<volume>`. */
  readonly pvName: string;
  readonly mountPath: string;
  readonly server: string;
  readonly path: string;
  readonly size: string;
  readonly accessMode: string;
  readonly readOnly: boolean;
  readonly perPod: boolean;
  readonly mountOptions: readonly string[];
}

export interface ResolvedApp {
  readonly name: string;
  readonly namespace: string;
  /** Final image, after the registry-mirror rule. */
  readonly image: string;
  /** The image as written in the definition, for registry-credential matching before mirroring. */
  readonly definedImage: string;
  readonly replicas: number;
  readonly containerPort: number;
  /** HTTP probes on this path; none: TCP probes on the container port. */
  readonly probePath?: string;
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
  readonly env: Readonly<Record<string, string>>;
  readonly host?: string;
  /** TLS Secret of the Ingress; `issued` when kubesmith issues its certificate (the PKI's per-app list). */
  readonly tls?: { readonly secretName: string; readonly issued: boolean };
  readonly sslRedirect: boolean;
  readonly volumes: readonly ResolvedVolume[];
  readonly pullSecretName: string;
  /** Chart id, a public contract: `50-app-<name>`. */
  readonly chartId: string;
}

export interface ResolvedAddons {
  readonly coreDns: { readonly enabled: boolean; readonly replicas: number; readonly image: string };
  readonly dashboard: {
    readonly enabled: boolean;
    readonly nodePort: number;
    readonly adminUser: boolean;
    readonly image: string;
    readonly metricsScraperImage: string;
  };
  readonly ingressNginx: {
    readonly enabled: boolean;
    readonly nodeSelector: Readonly<Record<string, string>>;
    readonly config: Readonly<Record<string, string>>;
    readonly image: string;
  };
  readonly bootstrapToken: { readonly extraGroups: readonly string[]; readonly ttlHours: number };
  /** Namespaces the `00-namespaces` chart creates, in apply order. */
  readonly namespaces: readonly string[];
}

/** The addons section with every default applied and every image mirrored. */
export function resolveAddons(
  a: AddonsDefinition, apps: readonly ResolvedApp[], imageRegistry: string | undefined, coreDnsImage: string,
): ResolvedAddons {
  const d = DEFAULTS.addons;
  const mirror = (image: string) => mirrorImage(image, imageRegistry);
  const coreDns = {
    enabled: a.coreDns?.enabled ?? d.coreDns.enabled,
    replicas: a.coreDns?.replicas ?? d.coreDns.replicas,
    image: mirror(coreDnsImage),
  };
  const dashboard = {
    enabled: a.dashboard?.enabled ?? d.dashboard.enabled,
    nodePort: a.dashboard?.nodePort ?? d.dashboard.nodePort,
    adminUser: a.dashboard?.adminUser ?? d.dashboard.adminUser,
    image: mirror(IMAGES.dashboard),
    metricsScraperImage: mirror(IMAGES.metricsScraper),
  };
  const ingressNginx = {
    enabled: a.ingressNginx?.enabled ?? d.ingressNginx.enabled,
    nodeSelector: { ...d.ingressNginx.nodeSelector, ...a.ingressNginx?.nodeSelector },
    config: { ...d.ingressNginx.config, ...a.ingressNginx?.config },
    image: mirror(IMAGES.ingressNginx),
  };
  const namespaces = [
    ...(dashboard.enabled ? ['kubernetes-dashboard'] : []),
    ...(ingressNginx.enabled ? ['ingress-nginx'] : []),
    ...apps.map((x) => x.namespace),
  ].filter((ns, i, all) => !BUILTIN_NAMESPACES.includes(ns) && all.indexOf(ns) === i);
  return {
    coreDns,
    dashboard,
    ingressNginx,
    bootstrapToken: {
      extraGroups: [...(a.bootstrapToken?.extraGroups ?? d.bootstrapToken.extraGroups)],
      ttlHours: a.bootstrapToken?.ttlHours ?? d.bootstrapToken.ttlHours,
    },
    namespaces,
  };
}

/** One app with every default applied and its image mirrored (unless it opts out). */
export function resolveApp(app: AppDefinition, imageRegistry: string | undefined): ResolvedApp {
  const d = DEFAULTS.app;
  const useMirror = app.useImageRegistry ?? d.useImageRegistry;
  return {
    name: app.name,
    namespace: app.namespace ?? app.name,
    image: useMirror ? mirrorImage(app.image, imageRegistry) : app.image,
    definedImage: app.image,
    replicas: app.replicas ?? d.replicas,
    containerPort: app.containerPort ?? d.containerPort,
    probePath: app.probePath,
    requests: { ...d.resources.requests, ...app.resources?.requests },
    limits: { ...d.resources.limits, ...app.resources?.limits },
    env: { ...app.env },
    host: app.host,
    tls: app.host === undefined ? undefined
      : { secretName: app.tls?.secretName ?? `${app.name}-tls`, issued: app.tls?.secretName === undefined },
    sslRedirect: app.sslRedirect ?? d.sslRedirect,
    volumes: (app.volumes ?? []).map((v) => ({
      name: v.name,
      pvName: `${app.name}-${v.name}`,
      mountPath: v.mountPath,
      server: v.server,
      path: v.path,
      size: v.size ?? DEFAULTS.volume.size,
      accessMode: v.accessMode ?? DEFAULTS.volume.accessMode,
      readOnly: v.readOnly ?? DEFAULTS.volume.readOnly,
      perPod: v.perPod ?? DEFAULTS.volume.perPod,
      mountOptions: [...(v.mountOptions ?? [])],
    })),
    pullSecretName: `${app.name}-registry`,
    chartId: `50-app-${app.name}`,
  };
}
