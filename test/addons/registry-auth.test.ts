import { REGISTRY_AUTH_FILE_ENV, registryAuthEnvVar, resolveRegistryAuth } from '../../lib/addons/registry-auth';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const config = (r: any) => JSON.parse(r.dockerConfigJson);

describe('registryAuthEnvVar', () => {
  test('upper-cases the app name and maps "-" to "_"', () => {
    expect(registryAuthEnvVar('java-demo')).toBe('KUBESMITH_REGISTRY_AUTH_JAVA_DEMO');
  });
});

describe('resolveRegistryAuth', () => {
  const noFile = () => { throw new Error('no file expected'); };

  test('nothing set: a warning naming both variables, no config', () => {
    const r = resolveRegistryAuth('java-demo', 'tomcat:8.5-jre8', {}, noFile);
    expect(r).toEqual({ warning: expect.stringMatching(/KUBESMITH_REGISTRY_AUTH_JAVA_DEMO.*KUBESMITH_REGISTRY_AUTH_FILE/) });
  });

  test('user:password for a private registry', () => {
    const r = resolveRegistryAuth('java-demo', 'harbor.example.com/java/demo:1.0', { KUBESMITH_REGISTRY_AUTH_JAVA_DEMO: 'robot:p:ss' }, noFile);
    expect(config(r)).toEqual({ auths: { 'harbor.example.com': { username: 'robot', password: 'p:ss', auth: b64('robot:p:ss') } } });
  });

  test('user:password for Docker Hub uses the index key docker expects', () => {
    const r = resolveRegistryAuth('java-demo', 'tomcat:8.5-jre8', { KUBESMITH_REGISTRY_AUTH_JAVA_DEMO: 'me:secret' }, noFile);
    expect(Object.keys(config(r).auths)).toEqual(['https://index.docker.io/v1/']);
  });

  test('a config.json in the per-app variable, filtered to the image\'s registry', () => {
    const json = JSON.stringify({ auths: { 'other.example.com': { auth: b64('x:y') }, 'https://harbor.example.com': { auth: b64('a:b') } } });
    const r = resolveRegistryAuth('shop', 'harbor.example.com/shop:1', { KUBESMITH_REGISTRY_AUTH_SHOP: json }, noFile);
    expect(config(r)).toEqual({ auths: { 'https://harbor.example.com': { auth: b64('a:b') } } });
  });

  test('the shared file, read from the path in KUBESMITH_REGISTRY_AUTH_FILE', () => {
    const files: Record<string, string> = {
      '/home/me/.docker/config.json': JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: b64('me:pw') }, 'harbor.example.com': { auth: b64('a:b') } } }),
    };
    const r = resolveRegistryAuth('java-demo', 'tomcat:8.5-jre8', { [REGISTRY_AUTH_FILE_ENV]: '/home/me/.docker/config.json' }, (p) => files[p]);
    expect(config(r)).toEqual({ auths: { 'https://index.docker.io/v1/': { auth: b64('me:pw') } } });
    expect((r as any).source).toContain('/home/me/.docker/config.json');
  });

  test('the per-app variable wins over the file', () => {
    const r = resolveRegistryAuth('shop', 'harbor.example.com/shop:1', {
      KUBESMITH_REGISTRY_AUTH_SHOP: 'app:pw', [REGISTRY_AUTH_FILE_ENV]: '/nope',
    }, noFile);
    expect(config(r).auths['harbor.example.com'].username).toBe('app');
  });

  test('a file without an entry for the registry (e.g. only credsStore): warning', () => {
    const r = resolveRegistryAuth('shop', 'harbor.example.com/shop:1', { [REGISTRY_AUTH_FILE_ENV]: '/c.json' }, () => JSON.stringify({ auths: {}, credsStore: 'desktop' }));
    expect(r).toEqual({ warning: expect.stringMatching(/no credentials for harbor\.example\.com/) });
  });

  test.each([
    [{ KUBESMITH_REGISTRY_AUTH_SHOP: 'no-colon' }, /user:password/],
    [{ KUBESMITH_REGISTRY_AUTH_SHOP: '{"auths": {"harbor.example.com": {"password": "hunter2"' }, /is not valid JSON/],
    [{ KUBESMITH_REGISTRY_AUTH_SHOP: '{"nope": 1}' }, /"auths" object/],
    [{ KUBESMITH_REGISTRY_AUTH_SHOP: '{"auths": {"harbor.example.com": {}}}' }, /neither "auth"/],
  ])('malformed credentials fail loudly without echoing them: %p', (env, message) => {
    let error: Error | undefined;
    try {
      resolveRegistryAuth('shop', 'harbor.example.com/shop:1', env, noFile);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain('hunter2');
  });

  test('an unreadable file is an error', () => {
    expect(() => resolveRegistryAuth('shop', 'shop:1', { [REGISTRY_AUTH_FILE_ENV]: '/missing.json' }, () => { throw new Error('ENOENT'); }))
      .toThrow(/cannot read \/missing\.json/);
  });
});
