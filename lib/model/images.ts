/**
 * Image references and the registry-mirror rule.
 *
 * Rule: with `imageRegistry` set, an image on a public upstream registry (docker.io,
 * registry.k8s.io, k8s.gcr.io, *.gcr.io, quay.io, ghcr.io) becomes
 * `<imageRegistry>/<last path component>[:tag][@digest]`, the flat layout of kubeadm's
 * imageRepository and of mirrors like registry.aliyuncs.com/google_containers.
 * A few images whose last component is ambiguous get the name those mirrors use
 * (MIRROR_NAMES). Images on any other (private) registry are left alone.
 */

export interface ImageReference {
  /** Registry host[:port]; 'docker.io' when the reference names none. */
  readonly registry: string;
  /** Repository path, with docker.io's implicit 'library/' prefix. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d{1,5})?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Parses a container image reference the way docker and containerd do; undefined when malformed. */
export function parseImageReference(ref: unknown): ImageReference | undefined {
  if (typeof ref !== 'string' || ref.length === 0 || ref.length > 512) return undefined;
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  if (parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === 'localhost')) {
    registry = parts.shift()!;
    if (!HOST.test(registry)) return undefined;
  }
  if (parts.length === 0 || !parts.every((p) => PATH_COMPONENT.test(p))) return undefined;
  if (DOCKER_HUB_ALIASES.has(registry)) {
    registry = 'docker.io';
    if (parts.length === 1) parts.unshift('library');
  }
  return { registry, repository: parts.join('/'), tag, digest };
}

/** True for the public registries a mirror replaces. */
export function isUpstreamRegistry(registry: string): boolean {
  return ['docker.io', 'registry.k8s.io', 'k8s.gcr.io', 'gcr.io', 'quay.io', 'ghcr.io'].includes(registry)
    || registry.endsWith('.gcr.io');
}

/** Mirror names that differ from the last path component (as on registry.aliyuncs.com/google_containers). */
export const MIRROR_NAMES: Readonly<Record<string, string>> = {
  'registry.k8s.io/ingress-nginx/controller': 'nginx-ingress-controller',
};

/** The one place images are rewritten; every chart passes its images through it. */
export function mirrorImage(image: string, imageRegistry: string | undefined): string {
  if (!imageRegistry) return image;
  const ref = parseImageReference(image);
  if (!ref) throw new Error(`"${image}" is not a valid image reference`);
  if (!isUpstreamRegistry(ref.registry)) return image;
  const name = MIRROR_NAMES[`${ref.registry}/${ref.repository}`] ?? ref.repository.split('/').pop()!;
  return `${imageRegistry.replace(/\/+$/, '')}/${name}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/**
 * Upstream images of the addons that do not follow the Kubernetes minor, in one place. The pause and CoreDNS images
 * do: each minor's row in lib/versions/kubernetes.ts names them.
 */
export const IMAGES = {
  /** The last release shipped as plain manifests; upstream archived the Dashboard in 2026 (README "Addons"). */
  dashboard: 'kubernetesui/dashboard:v2.7.0',
  metricsScraper: 'kubernetesui/metrics-scraper:v1.0.8',
  /** The last release (2026-03): upstream retired ingress-nginx; see README "Addons". */
  ingressNginx: 'registry.k8s.io/ingress-nginx/controller:v1.15.1',
} as const;
