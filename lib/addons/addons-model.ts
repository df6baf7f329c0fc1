import { ClusterModel } from '../cluster-model';
import { ADDON_DEFAULTS } from './defaults';
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
  readonly probePath: string;
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
  readonly env: Readonly<Record<string, string>>;
  readonly host?: string;
  /** TLS Secret of the Ingress; `issued` when kubesmith writes it from AddonsProps.appTls. */
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
  readonly bootstrapToken: { readonly extraGroups: readonly string[] };
  readonly apps: readonly ResolvedApp[];
  /** Namespaces the `00-namespaces` chart creates, in apply order. */
  readonly namespaces: readonly string[];
}

/** Namespaces that exist in every cluster and are never emitted. */
const BUILTIN_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

/** Applies the defaults of the addons and apps sections to a validated model. */
export function resolveAddons(model: ClusterModel): ResolvedAddons {
  const a = model.definition.addons ?? {};
  const mirror = (image: string) => mirrorImage(image, model.imageRegistry);
  const coreDns = {
    enabled: a.coreDns?.enabled ?? true,
    replicas: a.coreDns?.replicas ?? ADDON_DEFAULTS.coreDnsReplicas,
    image: mirror(IMAGES.coreDns),
  };
  const dashboard = {
    enabled: a.dashboard?.enabled ?? true,
    nodePort: a.dashboard?.nodePort ?? ADDON_DEFAULTS.dashboardNodePort,
    adminUser: a.dashboard?.adminUser ?? false,
    image: mirror(IMAGES.dashboard),
    metricsScraperImage: mirror(IMAGES.metricsScraper),
  };
  const ingressNginx = {
    enabled: a.ingressNginx?.enabled ?? true,
    nodeSelector: { 'kubernetes.io/os': 'linux', ...a.ingressNginx?.nodeSelector },
    // Snippet annotations let any Ingress author inject nginx config (CVE-2021-25742).
    config: { 'allow-snippet-annotations': 'false', ...a.ingressNginx?.config },
    image: mirror(IMAGES.ingressNginx),
  };
  const apps = (model.definition.apps ?? []).map((app): ResolvedApp => {
    const useMirror = app.useImageRegistry ?? true;
    return {
      name: app.name,
      namespace: app.namespace ?? app.name,
      image: useMirror ? mirror(app.image) : app.image,
      definedImage: app.image,
      replicas: app.replicas ?? ADDON_DEFAULTS.appReplicas,
      containerPort: app.containerPort ?? ADDON_DEFAULTS.appContainerPort,
      probePath: app.probePath ?? ADDON_DEFAULTS.appProbePath,
      requests: { ...ADDON_DEFAULTS.appRequests, ...app.resources?.requests },
      limits: { ...ADDON_DEFAULTS.appLimits, ...app.resources?.limits },
      env: { ...app.env },
      host: app.host,
      tls: app.host === undefined ? undefined
        : { secretName: app.tls?.secretName ?? `${app.name}-tls`, issued: app.tls?.secretName === undefined },
      sslRedirect: app.sslRedirect ?? false,
      volumes: (app.volumes ?? []).map((v) => ({
        name: v.name,
        pvName: `${app.name}-${v.name}`,
        mountPath: v.mountPath,
        server: v.server,
        path: v.path,
        size: v.size ?? ADDON_DEFAULTS.volumeSize,
        accessMode: v.accessMode ?? ADDON_DEFAULTS.volumeAccessMode,
        readOnly: v.readOnly ?? false,
        perPod: v.perPod ?? false,
        mountOptions: [...(v.mountOptions ?? [])],
      })),
      pullSecretName: `${app.name}-registry`,
      chartId: `50-app-${app.name}`,
    };
  });
  const namespaces = [
    ...(dashboard.enabled ? ['kubernetes-dashboard'] : []),
    ...(ingressNginx.enabled ? ['ingress-nginx'] : []),
    ...apps.map((x) => x.namespace),
  ].filter((ns, i, all) => !BUILTIN_NAMESPACES.has(ns) && all.indexOf(ns) === i);
  return {
    coreDns,
    dashboard,
    ingressNginx,
    bootstrapToken: { extraGroups: [...(a.bootstrapToken?.extraGroups ?? [])] },
    apps,
    namespaces,
  };
}
