// config-fields prints the JSON field paths of a Kubernetes component config type, from the Go types of
// the release it is built against (scripts/build-components.sh builds it in the v1.27.16 throwaway module).
// Format (test/fixtures/fields/*.txt, parsed by test/support/flag-reference.ts): one dotted path per leaf;
// "a[].b" is field b of each element of list a; lists of scalars are leaves; a map, or an embedded raw
// object (runtime.RawExtension: plugin args), is printed once with " map" (its keys are user data).
//
//	config-fields kubelet-config.v1beta1 | kube-proxy-config.v1alpha1 | kube-scheduler-config.v1 | feature-gates
//
// feature-gates prints every gate the Kubernetes components register (k8s.io/kubernetes/pkg/features fills the
// one DefaultFeatureGate they all parse --feature-gates with), GA and deprecated ones included, which --help
// leaves out: "<Name> <ALPHA|BETA|GA|DEPRECATED> <default>[ locked]".
package main

import (
	"encoding"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	_ "k8s.io/kubernetes/pkg/features"
	kubeproxy "k8s.io/kube-proxy/config/v1alpha1"
	scheduler "k8s.io/kube-scheduler/config/v1"
	kubelet "k8s.io/kubelet/config/v1beta1"
)

var types = map[string]interface{}{
	"kubelet-config.v1beta1":     kubelet.KubeletConfiguration{},
	"kube-proxy-config.v1alpha1": kubeproxy.KubeProxyConfiguration{},
	"kube-scheduler-config.v1":   scheduler.KubeSchedulerConfiguration{},
}

var (
	jsonMarshaler = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	textMarshaler = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
	rawExtension  = reflect.TypeOf(runtime.RawExtension{})
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "feature-gates" {
		printGates()
		return
	}
	if len(os.Args) != 2 || types[os.Args[1]] == nil {
		names := []string{"feature-gates"}
		for n := range types {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: config-fields %s\n", strings.Join(names, "|"))
		os.Exit(2)
	}
	out := map[string]string{}
	walk(reflect.TypeOf(types[os.Args[1]]), "", out)
	paths := make([]string, 0, len(out))
	for p := range out {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Println(strings.TrimSpace(p + " " + out[p]))
	}
}

// A type with its own JSON (or text) encoding is a leaf: metav1.Duration, metav1.Time, resource.Quantity.
func ownEncoding(t reflect.Type) bool {
	return t.Implements(jsonMarshaler) || reflect.PtrTo(t).Implements(jsonMarshaler) ||
		t.Implements(textMarshaler) || reflect.PtrTo(t).Implements(textMarshaler)
}

func walk(t reflect.Type, prefix string, out map[string]string) {
	for t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	switch {
	case t == rawExtension:
		out[prefix] = "map"
	case t.Kind() == reflect.Map:
		out[prefix] = "map"
	case ownEncoding(t):
		out[prefix] = ""
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		e := t.Elem()
		for e.Kind() == reflect.Ptr {
			e = e.Elem()
		}
		if e.Kind() == reflect.Struct && !ownEncoding(e) && e != rawExtension {
			walk(e, prefix+"[]", out)
		} else {
			out[prefix] = ""
		}
	case t.Kind() == reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.PkgPath != "" && !f.Anonymous {
				continue // unexported
			}
			tag := f.Tag.Get("json")
			name := strings.Split(tag, ",")[0]
			if name == "-" {
				continue
			}
			if f.Anonymous && (name == "" || strings.Contains(tag, ",inline")) {
				walk(f.Type, prefix, out) // embedded: its fields are this object's (TypeMeta: apiVersion, kind)
				continue
			}
			if strings.Contains(tag, ",inline") {
				walk(f.Type, prefix, out)
				continue
			}
			if name == "" {
				name = f.Name
			}
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			walk(f.Type, p, out)
		}
	default:
		out[prefix] = ""
	}
}

func printGates() {
	all := utilfeature.DefaultMutableFeatureGate.GetAll()
	lines := make([]string, 0, len(all))
	for name, spec := range all {
		stage := string(spec.PreRelease)
		if stage == "" {
			stage = "GA"
		}
		line := fmt.Sprintf("%s %s %t", name, stage, spec.Default)
		if spec.LockToDefault {
			line += " locked"
		}
		lines = append(lines, line)
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
}
