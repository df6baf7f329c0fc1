/**
 * Throwaway certificates made with the openssl CLI, for tests that need TLS
 * between real programs independent of kubesmith's own PKI code (e.g. a
 * backend behind nginx, or to check that a program rejects a wrong CA).
 * EC P-256 keys, valid for one day, written into a temp dir the caller owns
 * (see temp-dir.ts). Never commit these files.
 */
import * as fs from 'fs';
import * as path from 'path';
import { run } from './processes';

export interface CertFiles {
  cert: string;
  key: string;
}

async function openssl(args: string[]): Promise<void> {
  const r = await run(['openssl', ...args], { timeoutMs: 20000 });
  if (r.code !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.trim()}`);
}

/** A self-signed CA: `<dir>/<name>.crt` + `.key`. */
export async function makeCa(dir: string, name = 'ca'): Promise<CertFiles> {
  const files = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  await openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', files.key, '-out', files.cert, '-days', '1', '-subj', `/CN=ks-test-${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return files;
}

export interface LeafOptions {
  cn: string;
  ips?: readonly string[];
  dns?: readonly string[];
  /** Extended key usage. Default 'both' (serverAuth + clientAuth, as etcd peers need). */
  usage?: 'server' | 'client' | 'both';
}

/** A leaf certificate signed by `ca`: `<dir>/<name>.crt` + `.key`. */
export async function issueCert(dir: string, ca: CertFiles, name: string, opts: LeafOptions): Promise<CertFiles> {
  const files = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  const san = [...(opts.ips ?? []).map((i) => `IP:${i}`), ...(opts.dns ?? []).map((d) => `DNS:${d}`)];
  const eku = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth,clientAuth' }[opts.usage ?? 'both'];
  const lines = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', `extendedKeyUsage=${eku}`];
  if (san.length > 0) lines.push(`subjectAltName=${san.join(',')}`);
  fs.writeFileSync(ext, lines.join('\n') + '\n');
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', files.key, '-out', csr, '-subj', `/CN=${opts.cn}`]);
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', files.cert, '-days', '1', '-extfile', ext]);
  return files;
}

/** Self-signed server certificate for one IP (no CA), e.g. for openssl s_server. */
export async function selfSigned(dir: string, ip: string, name = 'server'): Promise<CertFiles> {
  const files = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  await openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', files.key, '-out', files.cert,
    '-days', '1', '-subj', `/CN=${ip}`, '-addext', `subjectAltName=IP:${ip}`,
  ]);
  return files;
}
