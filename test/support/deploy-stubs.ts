/**
 * dist/deploy.sh run against ssh and scp stand-ins that log their arguments, one call a line, and answer as hosts would
 * where a test needs it:
 *  - ssh fails while FAIL_MATCH is in the command, and install.sh --check exits 3 (drift) while DRIFT_MATCH is;
 *  - the units listed in <dir>/running-<address> answer systemctl is-active;
 *  - etcd-snapshot.sh prints a snapshot path, and scp from the snapshot directory brings a file;
 *  - an apiserver's /version answers <dir>/version-<address>; an upgrade step's record is <dir>/reached-<address>-<step>;
 *  - what a remote tar would unpack is kept as <dir>/received-<call number>.tgz, and its programs' sha256 in
 *    <dir>/installed-<address>, which answers deploy.sh's comparison of programs (a matching one is not copied again).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ETCD_SNAPSHOT } from '../../hosts';
import { tempDir } from './tmp';

export interface DeployStubs {
  readonly dir: string;
  /** The calls, one a line: "ssh root@ADDRESS COMMAND" or "scp FROM TO". */
  readonly log: string;
}

export function deployStubs(): DeployStubs {
  const dir = tempDir();
  const log = path.join(dir, 'calls.log');
  for (const name of ['ssh', 'scp']) {
    fs.writeFileSync(path.join(dir, name), `#!/bin/bash
args=()
while [ $# -gt 0 ]; do case "$1" in -o) shift 2 ;; -q) shift ;; *) args+=("$1"); shift ;; esac; done
echo "${name} \${args[*]}" >> ${log}
if [[ "\${args[*]}" == *"tar -xzf - -C /"* ]]; then
  got="${dir}/received-\$(wc -l < ${log}).tgz"; cat > "$got"
  # What the host now has: the sha256 of every program it received, as DIFFER_CMD compares them.
  x=$(mktemp -d); tar -xzf "$got" -C "$x"
  (cd "$x" && find . -type f | while read -r f; do echo "$(sha256sum < "$f" | cut -d' ' -f1) \${f#.}"; done) >> "${dir}/installed-\${args[0]#*@}"
  rm -rf "$x"
fi
# DIFFER_CMD: the programs whose "sha256 path" line the host does not have.
if [[ "\${args[*]}" == *"while read -r sum p"* ]]; then
  while read -r line; do [ -n "$line" ] || continue; grep -qxF -- "$line" "${dir}/installed-\${args[0]#*@}" 2> /dev/null || echo "\${line#* }"; done
fi
if [[ "\${args[*]}" == *"while read -r p; do"* ]]; then cat > /dev/null; fi
# Upgrades: an apiserver's /version from <dir>/version-<address>; each step's record on a host in <dir>/reached-<address>-<step>.
if [ ${name} = ssh ] && [[ "\${args[*]}" == *"/version"* ]] && [ -f "${dir}/version-\${args[0]#*@}" ]; then printf '{"gitVersion": "%s"}\\n' "$(cat "${dir}/version-\${args[0]#*@}")"; fi
re_cat='cat /var/lib/kubesmith/upgrade/([a-z-]+)'
re_rec="echo '([^']*)' > /var/lib/kubesmith/upgrade/([a-z-]+)[.]new"
if [ ${name} = ssh ] && [[ "\${args[*]}" =~ $re_cat ]]; then cat "${dir}/reached-\${args[0]#*@}-\${BASH_REMATCH[1]}" 2> /dev/null || true; fi
if [ ${name} = ssh ] && [[ "\${args[*]}" =~ $re_rec ]]; then echo "\${BASH_REMATCH[1]}" > "${dir}/reached-\${args[0]#*@}-\${BASH_REMATCH[2]}"; fi
if [ ${name} = ssh ] && [[ "\${args[*]}" == *"systemctl is-active"* ]] && [ -f "${dir}/running-\${args[0]#*@}" ]; then cat "${dir}/running-\${args[0]#*@}"; fi
if [ ${name} = ssh ] && [[ "\${args[*]}" == *etcd-snapshot.sh* ]]; then echo "saved"; echo ${ETCD_SNAPSHOT.dir}/k8s2-20240101T000000Z.db; fi
if [ ${name} = scp ] && [[ "\${args[*]}" == *:${ETCD_SNAPSHOT.dir}/* ]]; then echo snapshot > "\${args[-1]}"; fi
if [ -n "\${FAIL_MATCH:-}" ] && [[ "\${args[*]}" == *"$FAIL_MATCH"* ]]; then exit 1; fi
if [ -n "\${DRIFT_MATCH:-}" ] && [[ "\${args[*]}" == *"$DRIFT_MATCH"* ]] && [[ "\${args[*]}" == *"install.sh --check"* ]]; then exit 3; fi
exit 0
`, { mode: 0o755 });
  }
  // The operator's kubectl (KUBECTL): answers nothing, logs its calls apart from ssh's, never reaches a network.
  fs.writeFileSync(path.join(dir, 'kubectl'), `#!/bin/bash\necho "kubectl $*" >> ${path.join(dir, 'kubectl.log')}\n`, { mode: 0o755 });
  return { dir, log };
}

/** Runs dist/deploy.sh of `dist` with the stubs, no standard input, and waits of 2 tries 0 s apart. */
export function runDeploy(dist: string, args: string[], st: DeployStubs, env: Record<string, string> = {}) {
  return spawnSync('bash', [path.join(dist, 'deploy.sh'), ...args], {
    encoding: 'utf8', timeout: 30_000, input: '',
    env: {
      ...process.env, SSH: path.join(st.dir, 'ssh'), SCP: path.join(st.dir, 'scp'), KUBECTL: path.join(st.dir, 'kubectl'),
      KUBESMITH_WAIT_DELAY: '0', KUBESMITH_WAIT_TRIES: '2', ...env,
    },
  });
}
