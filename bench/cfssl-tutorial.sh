#!/usr/bin/env bash
# The seed tutorial's certificate scripts (section 2.3 etcd-cert.sh, section 2.6 k8s-cert.sh) for its environment
# plan, with Debian's golang-cfssl: six certificates, every key RSA-2048: etcd CA and the etcd server certificate,
# the kubernetes CA, apiserver, admin and kube-proxy. The baseline of `npm run bench`.
# Usage: bench/cfssl-tutorial.sh <work dir>
set -euo pipefail
work=${1:?usage: $0 <work dir>}
mkdir -p "$work/etcd-cert" "$work/k8s-cert"

# 2.3: etcd CA and the etcd server certificate (flannel uses it too in the tutorial)
cd "$work/etcd-cert"
cat > ca-config.json <<JSON
{"signing": {"default": {"expiry": "87600h"},
  "profiles": {"www": {"expiry": "87600h", "usages": ["signing", "key encipherment", "server auth", "client auth"]}}}}
JSON
cat > ca-csr.json <<JSON
{"CN": "etcd CA", "key": {"algo": "rsa", "size": 2048}, "names": [{"C": "CN", "L": "Beijing", "ST": "Beijing"}]}
JSON
cfssl gencert -initca ca-csr.json | cfssljson -bare ca -
cat > server-csr.json <<JSON
{"CN": "etcd", "hosts": ["192.168.100.10", "192.168.100.20", "192.168.100.30"],
 "key": {"algo": "rsa", "size": 2048}, "names": [{"C": "CN", "L": "BeiJing", "ST": "BeiJing"}]}
JSON
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=www server-csr.json | cfssljson -bare server

# 2.6: kubernetes CA, apiserver (every master, the VIP, 10.0.0.1), admin (system:masters), kube-proxy
cd "$work/k8s-cert"
cat > ca-config.json <<JSON
{"signing": {"default": {"expiry": "87600h"},
  "profiles": {"kubernetes": {"expiry": "87600h", "usages": ["signing", "key encipherment", "server auth", "client auth"]}}}}
JSON
cat > ca-csr.json <<JSON
{"CN": "kubernetes", "key": {"algo": "rsa", "size": 2048},
 "names": [{"C": "CN", "L": "Beijing", "ST": "Beijing", "O": "k8s", "OU": "System"}]}
JSON
cfssl gencert -initca ca-csr.json | cfssljson -bare ca -
cat > server-csr.json <<JSON
{"CN": "kubernetes",
 "hosts": ["10.0.0.1", "127.0.0.1", "192.168.100.10", "192.168.100.20", "192.168.100.50",
           "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster",
           "kubernetes.default.svc.cluster.local"],
 "key": {"algo": "rsa", "size": 2048},
 "names": [{"C": "CN", "L": "BeiJing", "ST": "BeiJing", "O": "k8s", "OU": "System"}]}
JSON
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=kubernetes server-csr.json | cfssljson -bare server
cat > admin-csr.json <<JSON
{"CN": "admin", "hosts": [], "key": {"algo": "rsa", "size": 2048},
 "names": [{"C": "CN", "L": "BeiJing", "ST": "BeiJing", "O": "system:masters", "OU": "System"}]}
JSON
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=kubernetes admin-csr.json | cfssljson -bare admin
cat > kube-proxy-csr.json <<JSON
{"CN": "system:kube-proxy", "hosts": [], "key": {"algo": "rsa", "size": 2048},
 "names": [{"C": "CN", "L": "BeiJing", "ST": "BeiJing", "O": "k8s", "OU": "System"}]}
JSON
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=kubernetes kube-proxy-csr.json | cfssljson -bare kube-proxy
