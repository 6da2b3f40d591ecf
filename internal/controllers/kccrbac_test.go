package controllers

import (
	"context"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
)

// With RBAC that only reads kubecontrollersconfigurations (as an install
// that predates this feature grants), the controllers still run: on the
// defaults under the environment while "default" is missing, then on the
// resource once an administrator creates it — its status unwritten.
func TestKubeControllersConfiguration_ReadOnlyAccessStillRuns(t *testing.T) {
	cl := startCluster(t, true)
	ctx := context.Background()
	const user = "kube-controllers-read-only-kcc"
	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"nodes", "pods", "namespaces", "serviceaccounts"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"projectcalico.org"}, Resources: []string{"blockaffinities", "ipamblocks", "ipamhandles"}, Verbs: []string{"get", "list", "watch", "create", "update", "delete"}},
		{APIGroups: []string{"projectcalico.org"}, Resources: []string{"ippools", "ipreservations", "ipamconfigurations", "clusterinformations", "kubecontrollersconfigurations"}, Verbs: []string{"get", "list", "watch"}},
	}
	kube, be := cl.impersonate(user, rules)

	cl.namespace("apps", nil)
	cl.node("node-a")
	cl.pod("apps", "leaky", "node-a", nil)
	cl.allocate("k8s-pod-network.leaky", "node-a", "apps", "leaky")
	cl.startAs(Config{Environment: envOf(map[string]string{"PROMETHEUS_METRICS_PORT": "0", "DATASTORE_TYPE": "kubernetes"})}, kube, be)
	if cl.kcc() != nil {
		t.Fatal("a KubeControllersConfiguration was created without the right to create one")
	}

	cl.deletePod("apps", "leaky")
	time.Sleep(3 * time.Second) // the deletion's GC pass has seen the leak
	if !cl.allocated("k8s-pod-network.leaky") {
		t.Fatal("the leak was released under the default 15m grace period")
	}
	kcc := v3.NewKubeControllersConfiguration()
	kcc.Name = v3.KubeControllersConfigurationName
	kcc.Spec = v3.DefaultKubeControllersConfigurationSpec(false)
	kcc.Spec.Controllers.Node.LeakGracePeriod = &metav1.Duration{Duration: 2 * time.Second}
	if _, err := cl.c.Create(ctx, kcc); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the administrator's 2s grace period releases the leak", func() bool {
		return !cl.allocated("k8s-pod-network.leaky")
	})
	if st := cl.kcc().Status; st.RunningConfig.Controllers.Node != nil {
		t.Errorf("a status was written without the right to update: %+v", st)
	}
}

// impersonate gives user the cluster rules plus the leader-election Lease
// rights and returns clients acting as user (Kubernetes datastore).
func (cl *cluster) impersonate(user string, rules []rbacv1.PolicyRule) (kubernetes.Interface, datastore.Backend) {
	cl.t.Helper()
	ctx := context.Background()
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
	rbac := cl.kube.RbacV1()
	if _, err := rbac.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		cl.t.Fatal(err)
	}
	if _, err := rbac.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user}}, metav1.CreateOptions{}); err != nil {
		cl.t.Fatal(err)
	}
	lease := metav1.ObjectMeta{Name: user, Namespace: DefaultLeaseNamespace}
	if _, err := rbac.Roles(lease.Namespace).Create(ctx, &rbacv1.Role{ObjectMeta: lease, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}}}}, metav1.CreateOptions{}); err != nil {
		cl.t.Fatal(err)
	}
	if _, err := rbac.RoleBindings(lease.Namespace).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: lease, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user}}, metav1.CreateOptions{}); err != nil {
		cl.t.Fatal(err)
	}
	rc := rest.CopyConfig(cl.rc)
	rc.Impersonate = rest.ImpersonationConfig{UserName: user}
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		cl.t.Fatal(err)
	}
	be, err := k8s.NewKDD(rc)
	if err != nil {
		cl.t.Fatal(err)
	}
	cl.t.Cleanup(func() { be.Close() })
	return kube, be
}
