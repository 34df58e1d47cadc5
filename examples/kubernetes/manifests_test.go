package kubernetes

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// strict decodes one YAML document as the API server does: case-sensitive field names, unknown or
// duplicate fields refused (sigs.k8s.io/json, the API machinery's decoder; encoding/json alone would
// take readOnlyRootFileSystem for readOnlyRootFilesystem).
func strict(doc []byte, target any) error {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strictErrs, err := kjson.UnmarshalStrict(js, target)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

// objects are the documents of cfissuer.yaml, decoded strictly.
type objects struct {
	sa  *corev1.ServiceAccount
	cm  *corev1.ConfigMap
	dep *appsv1.Deployment
	svc *corev1.Service
	pdb *policyv1.PodDisruptionBudget
}

// decode decodes every document of a manifest file strictly (unknown fields and duplicate keys fail)
// into the type its apiVersion and kind name.
func decode(t *testing.T, data []byte) objects {
	t.Helper()
	var o objects
	for i, doc := range bytes.Split(data, []byte("\n---\n")) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var target any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 ServiceAccount":
			o.sa = &corev1.ServiceAccount{}
			target = o.sa
		case "v1 ConfigMap":
			o.cm = &corev1.ConfigMap{}
			target = o.cm
		case "apps/v1 Deployment":
			o.dep = &appsv1.Deployment{}
			target = o.dep
		case "v1 Service":
			o.svc = &corev1.Service{}
			target = o.svc
		case "policy/v1 PodDisruptionBudget":
			o.pdb = &policyv1.PodDisruptionBudget{}
			target = o.pdb
		default:
			t.Fatalf("document %d: unexpected %s %s", i, tm.APIVersion, tm.Kind)
		}
		if err := strict(doc, target); err != nil {
			t.Fatalf("document %d (%s): %v", i, tm.Kind, err)
		}
	}
	if o.sa == nil || o.cm == nil || o.dep == nil || o.svc == nil || o.pdb == nil {
		t.Fatalf("want a ServiceAccount, ConfigMap, Deployment, Service and PodDisruptionBudget: %+v", o)
	}
	return o
}

func TestStrictDecodingCatchesMistakes(t *testing.T) {
	data, err := os.ReadFile("cfissuer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string][2]string{
		"misspelt field": {"readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true"},
		"wrong type":     {"replicas: 3", "replicas: three"},
		"unknown field":  {"readinessProbe:", "readinesProbe:"},
		"duplicate key":  {"revisionHistoryLimit: 5", "revisionHistoryLimit: 5\n  replicas: 4"},
	} {
		var o objects
		bad := strings.Replace(string(data), edit[0], edit[1], 1)
		if bad == string(data) {
			t.Fatalf("%s: %q not found", name, edit[0])
		}
		for _, doc := range strings.Split(bad, "\n---\n") {
			var tm metav1.TypeMeta
			yaml.Unmarshal([]byte(doc), &tm)
			if tm.Kind != "Deployment" {
				continue
			}
			o.dep = &appsv1.Deployment{}
			if err := strict([]byte(doc), o.dep); err == nil {
				t.Errorf("%s: strict decoding accepted it", name)
			}
		}
	}
}

func TestManifests(t *testing.T) {
	data, err := os.ReadFile("cfissuer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, data)
	dep, pod := o.dep, o.dep.Spec.Template.Spec

	// Names and namespaces agree.
	for _, m := range []metav1.ObjectMeta{o.sa.ObjectMeta, o.cm.ObjectMeta, dep.ObjectMeta, o.svc.ObjectMeta, o.pdb.ObjectMeta} {
		if m.Namespace != dep.Namespace || m.Name == "" {
			t.Errorf("%s: namespace %q, want %q", m.Name, m.Namespace, dep.Namespace)
		}
	}
	if pod.ServiceAccountName != o.sa.Name {
		t.Errorf("pod service account %q, want %q", pod.ServiceAccountName, o.sa.Name)
	}
	if o.sa.Annotations["eks.amazonaws.com/role-arn"] == "" {
		t.Error("the service account has no IAM role: keys come from Secrets Manager or KMS")
	}

	// Selectors select the pods, and only the Deployment's template labels.
	podLabels := labels.Set(dep.Spec.Template.Labels)
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil || !sel.Matches(podLabels) || sel.Empty() {
		t.Errorf("deployment selector %v does not select its pods %v (%v)", dep.Spec.Selector, podLabels, err)
	}
	if psel, err := metav1.LabelSelectorAsSelector(o.pdb.Spec.Selector); err != nil || !psel.Matches(podLabels) || psel.Empty() {
		t.Errorf("PodDisruptionBudget selector %v does not select the pods (%v)", o.pdb.Spec.Selector, err)
	}
	if !labels.SelectorFromSet(o.svc.Spec.Selector).Matches(podLabels) || len(o.svc.Spec.Selector) == 0 {
		t.Errorf("service selector %v does not select the pods", o.svc.Spec.Selector)
	}

	// Replicas and the disruption budget leave one pod to drain at a time.
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas < 2 {
		t.Fatalf("replicas = %v, want at least 2", dep.Spec.Replicas)
	}
	if ma := o.pdb.Spec.MinAvailable; ma == nil || ma.IntValue() < 1 || ma.IntValue() >= int(*dep.Spec.Replicas) {
		t.Errorf("PodDisruptionBudget minAvailable %v must be at least 1 and below replicas %d", ma, *dep.Spec.Replicas)
	}

	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	var httpPort *corev1.ContainerPort
	for i := range c.Ports {
		if c.Ports[i].Name == "http" {
			httpPort = &c.Ports[i]
		}
	}
	if httpPort == nil || httpPort.ContainerPort != 8080 {
		t.Fatalf("container port http = %+v, want 8080", httpPort)
	}
	if len(o.svc.Spec.Ports) == 0 || o.svc.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("service targets %v, want the http port", o.svc.Spec.Ports)
	}

	// Probes: readiness on /readyz, liveness on /healthz, on the container's port.
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe %+v, want GET %s on port http", p.name, p.probe, p.path)
		}
	}

	// Resources: requests and limits for CPU and memory, requests within limits.
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
		if req.IsZero() || lim.IsZero() || req.Cmp(lim) > 0 {
			t.Errorf("%s: request %s, limit %s", r, req.String(), lim.String())
		}
	}
	if mem := c.Resources.Limits[corev1.ResourceMemory]; mem.Cmp(resource.MustParse("64Mi")) < 0 {
		t.Errorf("memory limit %s is below what the issuer needs with its signature cache", mem.String())
	}

	// Locked down: non-root, read-only root file system, no privilege escalation, no capabilities.
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if sc == nil || sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Error("capabilities are not drop [ALL]")
	}
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Error("the pod does not run as a non-root user")
	}
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds <= 30 {
		t.Error("terminationGracePeriodSeconds must exceed the issuer's 30 s shutdown timeout")
	}

	// The config and behaviors are mounted from the ConfigMap where the args say.
	var cfgPath string
	for i, a := range c.Args {
		if a == "--config" && i+1 < len(c.Args) {
			cfgPath = c.Args[i+1]
		}
	}
	mounted := map[string]bool{}
	for _, vm := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name != vm.Name || v.ConfigMap == nil || v.ConfigMap.Name != o.cm.Name {
				continue
			}
			if !vm.ReadOnly {
				t.Errorf("volume %s is mounted read-write", vm.Name)
			}
			for _, it := range v.ConfigMap.Items {
				if _, ok := o.cm.Data[it.Key]; !ok {
					t.Errorf("volume %s maps key %s, which the ConfigMap lacks", v.Name, it.Key)
				}
				mounted[vm.MountPath+"/"+it.Path] = true
			}
		}
	}
	if cfgPath == "" || !mounted[cfgPath] {
		t.Errorf("--config %q is not a file mounted from the ConfigMap (mounted: %v)", cfgPath, mounted)
	}
	if !mounted[strings.TrimSuffix(cfgPath, "config.yaml")+"behaviors.json"] {
		t.Errorf("behaviors.json is not mounted beside the config (mounted: %v)", mounted)
	}
}
