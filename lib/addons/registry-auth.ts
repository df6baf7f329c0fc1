import * as fs from 'fs';
import { parseImageReference } from '../model';

/**
 * Registry credentials for an app's image pull Secret. They never live in the repository:
 *
 * - `KUBESMITH_REGISTRY_AUTH_<APP>` (app name upper-cased, "-" → "_"): either `user:password`
 *   for the registry of the app's image, or a docker config.json document (`{"auths": {...}}`).
 * - `KUBESMITH_REGISTRY_AUTH_FILE`: path of a docker config.json (e.g. ~/.docker/config.json after
 *   `docker login`), shared by all apps.
 *
 * The per-app variable wins. Only the entry for the image's registry is copied into the Secret,
 * so one app's namespace never receives another registry's password.
 */
export const REGISTRY_AUTH_FILE_ENV = 'KUBESMITH_REGISTRY_AUTH_FILE';

export function registryAuthEnvVar(appName: string): string {
  return `KUBESMITH_REGISTRY_AUTH_${appName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export type RegistryAuth =
  | { readonly dockerConfigJson: string; readonly source: string }
  | { readonly warning: string };

interface DockerAuthEntry { readonly auth?: string; readonly username?: string; readonly password?: string }

const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** 'https://index.docker.io/v1/' → 'docker.io'; 'https://harbor.example.com/v2' → 'harbor.example.com'. */
function registryOfKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, '').split('/')[0];
  return ['index.docker.io', 'registry-1.docker.io', 'docker.io'].includes(host) ? 'docker.io' : host;
}

export function resolveRegistryAuth(
  appName: string,
  image: string,
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (p) => fs.readFileSync(p, 'utf8'),
): RegistryAuth {
  const registry = parseImageReference(image)?.registry;
  if (!registry) throw new Error(`app "${appName}": "${image}" is not a valid image reference`);
  const appVar = registryAuthEnvVar(appName);
  const hint = `set ${appVar} (user:password or a docker config.json) or ${REGISTRY_AUTH_FILE_ENV}`;

  let config: unknown;
  let source: string;
  const direct = env[appVar];
  if (direct !== undefined && direct !== '') {
    source = appVar;
    if (direct.trimStart().startsWith('{')) {
      config = parseJson(direct, appVar);
    } else {
      const colon = direct.indexOf(':');
      if (colon <= 0 || colon === direct.length - 1) {
        throw new Error(`${appVar} must be "user:password" or a docker config.json document`);
      }
      const username = direct.slice(0, colon);
      const password = direct.slice(colon + 1);
      config = { auths: { [registry === 'docker.io' ? DOCKER_HUB_KEY : registry]: { username, password } } };
    }
  } else if (env[REGISTRY_AUTH_FILE_ENV]) {
    const file = env[REGISTRY_AUTH_FILE_ENV]!;
    source = `${REGISTRY_AUTH_FILE_ENV} (${file})`;
    let text: string;
    try {
      text = readFile(file);
    } catch (e) {
      throw new Error(`${REGISTRY_AUTH_FILE_ENV}: cannot read ${file}: ${(e as Error).message}`);
    }
    config = parseJson(text, `${REGISTRY_AUTH_FILE_ENV} (${file})`);
  } else {
    return { warning: `app "${appName}": no registry credentials, so no image pull Secret; ${image} is pulled anonymously (${hint})` };
  }

  const auths = (config as { auths?: unknown }).auths;
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
    throw new Error(`${source}: expected a docker config.json with an "auths" object`);
  }
  const matching = Object.entries(auths as Record<string, DockerAuthEntry>).filter(([key]) => registryOfKey(key) === registry);
  if (matching.length === 0) {
    return { warning: `app "${appName}": ${source} has no credentials for ${registry} (credential helpers are not read), so no image pull Secret (${hint})` };
  }
  const [key, entry] = matching[0];
  const auth = entry?.auth ?? (entry?.username !== undefined && entry?.password !== undefined
    ? Buffer.from(`${entry.username}:${entry.password}`).toString('base64') : undefined);
  if (!auth) throw new Error(`${source}: the entry for ${key} has neither "auth" nor "username" and "password"`);
  const out: DockerAuthEntry = { ...(entry.username !== undefined ? { username: entry.username, password: entry.password } : {}), auth };
  return { dockerConfigJson: JSON.stringify({ auths: { [key]: out } }), source };
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // The message must not echo the text: it holds passwords.
    throw new Error(`${source} is not valid JSON`);
  }
}
