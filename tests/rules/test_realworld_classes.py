"""False-positive classes found on public manifests, each pinned by a small excerpt of one.

The excerpts are trimmed from Apache-2.0 projects (the file is named above each one); fields
that do not matter to the rule are left out. Each test also shows the finding that must still
be reported when the evidence is missing, so the fix cannot pass by switching a rule off.
"""

from __future__ import annotations

from incidents.rules.engine import check_inputs, check_text
from incidents.rules.parsing import load_documents


def ids(report, rule_id):
    return [(f.object["name"], f.path) for f in report.findings if f.rule.id == rule_id]


# kubernetes/examples databases/cassandra/cassandra-statefulset.yaml (trimmed), plus a
# per-pod Service of the form the StatefulSet documentation gives for one replica.
CASSANDRA = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: cassandra
  labels:
    app: cassandra
spec:
  serviceName: cassandra
  replicas: 3
  selector:
    matchLabels:
      app: cassandra
  template:
    metadata:
      labels:
        app: cassandra
    spec:
      containers:
      - name: cassandra
        image: gcr.io/google-samples/cassandra:v13
        ports:
        - containerPort: 9042
          name: cql
        readinessProbe:
          exec:
            command: ["/bin/bash", "-c", "/ready-probe.sh"]
---
apiVersion: v1
kind: Service
metadata:
  name: cassandra-0
spec:
  ports:
  - port: 9042
  selector:
    app: cassandra
    statefulset.kubernetes.io/pod-name: {pod}
"""


def test_a_service_selecting_a_label_the_controller_adds_selects_its_pods():
    report = check_text(CASSANDRA.replace("{pod}", "cassandra-0"))
    assert ids(report, "KB027") == []
    # the same selector naming a pod that no StatefulSet of the input makes is still reported
    report = check_text(CASSANDRA.replace("{pod}", "cassandra-db-0"))
    assert ids(report, "KB027") == [("cassandra-0", "spec.selector")]


def test_a_pdb_on_pod_template_hash_is_not_covering_nothing():
    deployment = CASSANDRA.split("---")[0].replace("StatefulSet", "Deployment")
    pdb = """
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: cassandra}
spec:
  maxUnavailable: 1
  selector:
    matchExpressions:
    - {key: app, operator: In, values: [cassandra]}
    - {key: pod-template-hash, operator: Exists}
"""
    report = check_text(deployment + "---" + pdb)
    assert ids(report, "KB030") == []


# prometheus-operator/kube-prometheus manifests/alertmanager-alertmanager.yaml,
# alertmanager-service.yaml, alertmanager-podDisruptionBudget.yaml and blackboxExporter-
# deployment.yaml (trimmed): the operator turns the Alertmanager object into a StatefulSet.
ALERTMANAGER_CR = """\
apiVersion: monitoring.coreos.com/v1
kind: Alertmanager
metadata:
  name: main
  namespace: monitoring
spec:
  podMetadata:
    labels:
      app.kubernetes.io/component: alert-router
      app.kubernetes.io/instance: main
      app.kubernetes.io/name: alertmanager
  replicas: 3
"""
ALERTMANAGER_OBJECTS = """\
apiVersion: v1
kind: Service
metadata:
  name: alertmanager-main
  namespace: monitoring
spec:
  ports:
  - {name: web, port: 9093, targetPort: web}
  selector:
    app.kubernetes.io/component: alert-router
    app.kubernetes.io/instance: main
    app.kubernetes.io/name: alertmanager
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: alertmanager-main
  namespace: monitoring
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/component: alert-router
      app.kubernetes.io/instance: main
      app.kubernetes.io/name: alertmanager
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: blackbox-exporter
  namespace: monitoring
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: blackbox-exporter}
  template:
    metadata:
      labels: {app.kubernetes.io/name: blackbox-exporter}
    spec:
      containers:
      - name: blackbox-exporter
        image: quay.io/prometheus/blackbox-exporter:v0.24.0
"""


def test_objects_of_an_operator_made_workload_are_not_claimed_missing():
    report = check_text(ALERTMANAGER_CR + "---\n" + ALERTMANAGER_OBJECTS)
    assert ids(report, "KB027") == [] and ids(report, "KB030") == []
    # without the custom resource nothing in the input makes those pods
    report = check_text(ALERTMANAGER_OBJECTS)
    assert ids(report, "KB027") == [("alertmanager-main", "spec.selector")]
    assert ids(report, "KB030") == [("alertmanager-main", "spec.selector")]


def test_owner_like_selector_labels_mark_operator_made_pods():
    service = """
apiVersion: v1
kind: Service
metadata: {name: prometheus-operated, namespace: monitoring}
spec:
  clusterIP: None
  ports: [{name: web, port: 9090, targetPort: web}]
  selector:
    app.kubernetes.io/name: prometheus
    operator.prometheus.io/name: k8s
"""
    report = check_text(ALERTMANAGER_OBJECTS.split("---")[2] + "---" + service)
    assert ids(report, "KB027") == []


# istio/istio samples/extauthz/local-ext-authz.yaml (trimmed): the Service's targetPort 8080
# goes to the httpbin container; the ext-authz sidecar is reached over localhost only.
EXT_AUTHZ = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: httpbin
spec:
  selector:
    matchLabels: {app: httpbin, version: v1}
  template:
    metadata:
      labels: {app: httpbin, version: v1}
    spec:
      containers:
      - image: docker.io/mccutchen/go-httpbin:v2.15.0
        name: httpbin
        ports:
        - containerPort: 8080
      - image: registry.istio.io/testing/ext-authz:latest
        name: ext-authz
        ports:
        - containerPort: 8000
        - containerPort: 9000
---
apiVersion: v1
kind: Service
metadata:
  name: httpbin
spec:
  ports:
  - name: http
    port: 8000
    targetPort: 8080
  selector:
    app: httpbin
"""


def test_a_numbered_target_port_reaches_only_the_container_exposing_it():
    report = check_text(EXT_AUTHZ)
    container = "spec.template.spec.containers[{}]"
    assert ids(report, "KB003") == [("httpbin", container.format(0) + ".readinessProbe")]
    assert ids(report, "KB007") == [("httpbin", container.format(0) + ".lifecycle.preStop")]


# prometheus-operator/kube-prometheus manifests/nodeExporter-daemonset.yaml and
# nodeExporter-service.yaml (trimmed): node-exporter listens on 127.0.0.1; the Service's
# named targetPort `https` is kube-rbac-proxy's port.
NODE_EXPORTER = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-exporter
  namespace: monitoring
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: node-exporter}
  template:
    metadata:
      labels: {app.kubernetes.io/name: node-exporter}
    spec:
      containers:
      - name: node-exporter
        image: quay.io/prometheus/node-exporter:v1.6.1
        args: [--web.listen-address=127.0.0.1:9100]
      - name: kube-rbac-proxy
        image: quay.io/brancz/kube-rbac-proxy:v0.14.2
        args: [--upstream=http://127.0.0.1:9100/]
        ports:
        - {containerPort: 9100, hostPort: 9100, name: https}
      hostNetwork: true
---
apiVersion: v1
kind: Service
metadata:
  name: node-exporter
  namespace: monitoring
spec:
  clusterIP: None
  ports:
  - {name: https, port: 9100, targetPort: https}
  selector:
    app.kubernetes.io/name: node-exporter
"""


def test_a_daemonset_behind_a_service_is_checked_on_the_named_target_port():
    report = check_text(NODE_EXPORTER)
    path = "spec.template.spec.containers[1].readinessProbe"
    assert ids(report, "KB003") == [("node-exporter", path)]


# kubernetes/examples web/guestbook/frontend-deployment.yaml and frontend-service.yaml
# (trimmed), checked as two folders or two namespaces.
FRONTEND = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontend
spec:
  replicas: 3
  selector:
    matchLabels: {app: guestbook, tier: frontend}
  template:
    metadata:
      labels: {app: guestbook, tier: frontend}
    spec:
      containers:
      - name: php-redis
        image: us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5
        ports:
        - containerPort: 80
"""
FRONTEND_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: frontend
spec:
  ports:
  - port: 80
  selector: {app: guestbook, tier: frontend}
"""


def test_cross_object_rules_relate_objects_of_one_folder_by_default():
    same = [("guestbook/deployment.yaml", FRONTEND), ("guestbook/service.yaml", FRONTEND_SERVICE)]
    assert ids(check_inputs(same), "KB003") != []
    apart = [("one/deployment.yaml", FRONTEND), ("two/service.yaml", FRONTEND_SERVICE)]
    assert ids(check_inputs(apart), "KB003") == []
    assert ids(check_inputs(apart, scope="all"), "KB003") != []
    assert ids(check_inputs(same, scope="file"), "KB003") == []


def test_objects_without_a_namespace_are_in_the_namespace_given():
    service = FRONTEND_SERVICE.replace("name: frontend", "name: frontend\n  namespace: shop")
    inputs = [("app/deployment.yaml", FRONTEND), ("app/service.yaml", service)]
    assert ids(check_inputs(inputs), "KB003") == []  # the Deployment goes to `default`
    assert ids(check_inputs(inputs, namespace="shop"), "KB003") != []


# istio/istio samples/security/spire/spire-quickstart.yaml (trimmed): a fail-closed webhook
# on the operator's own cluster-scoped resources cannot block the cluster.
SPIRE_WEBHOOK = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: spire-controller-manager-webhook
webhooks:
- admissionReviewVersions: ["v1"]
  clientConfig:
    service:
      name: spire-controller-manager-webhook-service
      namespace: spire
  failurePolicy: Fail
  name: vclusterspiffeid.kb.io
  rules:
  - apiGroups: ["spire.spiffe.io"]
    apiVersions: ["v1alpha1"]
    operations: ["CREATE", "UPDATE"]
    resources: ["clusterspiffeids"]
  sideEffects: None
"""


def test_webhooks_are_judged_by_what_their_rules_intercept():
    assert ids(check_text(SPIRE_WEBHOOK), "KB012") == []
    pods = SPIRE_WEBHOOK.replace('["spire.spiffe.io"]', '[""]').replace(
        '["clusterspiffeids"]', '["pods"]'
    )
    assert ids(check_text(pods), "KB012") == [("spire-controller-manager-webhook", "webhooks[0]")]
    kept_out = pods.replace(
        "  sideEffects: None",
        "  sideEffects: None\n  namespaceSelector:\n    matchExpressions:\n"
        "    - {key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system]}",
    )
    assert ids(check_text(kept_out), "KB012") == []
    leases = pods.replace('[""]', '["coordination.k8s.io"]').replace('["pods"]', '["leases"]')
    assert ids(check_text(leases.replace("kube-system", "x")), "KB012") != []


# kubernetes/examples _archived/openshift-origin/etcd-controller.yaml (trimmed): `selector`
# written twice with the same value.
ETCD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: etcd
spec:
  selector:
    matchLabels:
      name: etcd
  replicas: 3
  selector:
    matchLabels:
      name: {name}
  template:
    metadata:
      labels:
        name: etcd
    spec:
      containers:
      - name: member
        image: openshift/etcd-20-centos7
"""


def test_a_key_repeated_with_the_same_value_is_a_warning():
    report = check_inputs([("etcd-controller.yaml", ETCD.replace("{name}", "etcd"))])
    assert report.errors == []
    assert [(w.code, w.line, w.file) for w in report.warnings] == [
        ("duplicate-key-same", 10, "etcd-controller.yaml")
    ]
    assert report.exit_code("info") != 2
    report = check_inputs([("etcd-controller.yaml", ETCD.replace("{name}", "etcd-2"))])
    assert [(e.code, e.line) for e in report.errors] == [("duplicate-key", 10)]
    assert report.exit_code("info") == 2


def test_json_keys_repeated_with_the_same_value_are_warnings():
    result = load_documents('{"kind": "Pod", "kind": "Pod", "metadata": {}}')
    assert result.errors == [] and [w.code for w in result.warnings] == ["duplicate-key-same"]


def test_a_pod_without_a_prestop_hook_is_reported_once():
    from pathlib import Path

    fixture = Path(__file__).parent / "fixtures" / "KB008" / "no-prestop-left-to-kb007-PASSES.yaml"
    report = check_text(fixture.read_text())
    assert ids(report, "KB008") == []
    assert ids(report, "KB007") == [("sleep", "spec.template.spec.containers[0].lifecycle.preStop")]
