"""Benchmark the manifest checks: parsing alone against parsing plus every rule.

    python bench/check_bench.py [--sizes 1000 10000] [--repeat 3]

Generates realistic multi-document YAML (an application = ConfigMap, Deployment, Service,
Ingress, PodDisruptionBudget, HorizontalPodAutoscaler; plus CronJobs, StatefulSets and
DaemonSets, some well configured and some not) and prints documents per second for
- `yaml.load_all(..., Loader=yaml.CSafeLoader)`: PyYAML's C loader, the floor;
- `parsing.load_documents`: the safe loader the engine uses (limits, duplicate keys, lines);
- `engine.check_text`: safe loading plus every manifest rule, findings with lines;
and the ratio end-to-end / floor, from the best CPU time of a few runs. Targets: ratio above
0.5 (all rules cost less than parsing) and at least 2,000 documents per second end to end on
one core.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from incidents.rules.engine import check_text
from incidents.rules.parsing import Limits, load_documents

UNLIMITED = Limits(max_bytes=1 << 40, max_documents=10**9, max_nodes=10**10)

APP = """---
# Source: {app}/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}
  namespace: {ns}
data:
  LOG_LEVEL: info
  FEATURE_FLAGS: "checkout,search"
---
# Source: {app}/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  namespace: {ns}
  labels: {{app.kubernetes.io/name: {app}, app.kubernetes.io/part-of: {ns}}}
spec:
  revisionHistoryLimit: 5
  selector:
    matchLabels: {{app.kubernetes.io/name: {app}}}
  template:
    metadata:
      labels: {{app.kubernetes.io/name: {app}, app.kubernetes.io/part-of: {ns}}}
      annotations: {{prometheus.io/scrape: "true", prometheus.io/port: "9090"}}
    spec:
      serviceAccountName: {app}
      terminationGracePeriodSeconds: {grace}
      dnsConfig:
        options: [{{name: ndots, value: "2"}}]
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: ScheduleAnyway
        labelSelector: {{matchLabels: {{app.kubernetes.io/name: {app}}}}}
      containers:
      - name: app
        image: registry.example.com/{ns}/{app}:{tag}
        imagePullPolicy: IfNotPresent
        ports:
        - {{name: http, containerPort: 8080}}
        - {{name: metrics, containerPort: 9090}}
        envFrom:
        - configMapRef: {{name: {app}}}
        env:
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef: {{name: {app}-db, key: password}}
        resources:
          requests: {{cpu: 250m, memory: 256Mi}}
          limits: {{{cpu_limit}memory: 512Mi}}
        readinessProbe:
          httpGet: {{path: /ready, port: http}}
          periodSeconds: 5
        livenessProbe:
          httpGet: {{path: {liveness}, port: http}}
          periodSeconds: 10
          timeoutSeconds: {timeout}
          failureThreshold: 6
        lifecycle:
          preStop:
            exec: {{command: ["sleep", "10"]}}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
---
# Source: {app}/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: {app}
  namespace: {ns}
spec:
  selector: {{app.kubernetes.io/name: {app}}}
  ports:
  - {{name: http, port: 80, targetPort: http}}
---
# Source: {app}/templates/ingress.yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {app}
  namespace: {ns}
spec:
  ingressClassName: nginx
  rules:
  - host: {app}.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {{name: {app}, port: {{name: http}}}}
---
# Source: {app}/templates/pdb.yaml
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {app}
  namespace: {ns}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {{app.kubernetes.io/name: {app}}}
---
# Source: {app}/templates/hpa.yaml
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {app}
  namespace: {ns}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {app}}}
  minReplicas: 3
  maxReplicas: 30
  metrics:
  - type: Resource
    resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 70}}}}
"""

CRONJOB = """---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {app}-report
  namespace: {ns}
spec:
  schedule: "*/30 * * * *"
  {policy}
  jobTemplate:
    spec:
      backoffLimit: 2
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: report
            image: registry.example.com/{ns}/report:{tag}
            args: ["--since", "30m"]
            resources:
              requests: {{cpu: 100m, memory: 128Mi}}
              limits: {{memory: 256Mi}}
"""

DAEMONSET = """---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {app}-agent
  namespace: {ns}
spec:
  selector:
    matchLabels: {{app: {app}-agent}}
  template:
    metadata:
      labels: {{app: {app}-agent}}
    spec:
      tolerations: [{{operator: Exists}}]
      containers:
      - name: agent
        image: registry.example.com/agents/{app}:{tag}
        resources:
          requests: {{cpu: 50m, memory: 64Mi}}
          limits: {{memory: 128Mi}}
        volumeMounts:
        - {{name: logs, mountPath: /var/log/pods, readOnly: true}}
      volumes:
      - name: logs
        hostPath: {{path: /var/log/pods}}
"""


def generate(documents: int, seed: int = 7) -> str:
    """About `documents` documents: applications of 6, a CronJob or DaemonSet now and then."""
    rng = random.Random(seed)
    parts: list[str] = []
    count = 0
    i = 0
    while count < documents:
        i += 1
        ns = f"team-{i % 23}"
        app = f"svc-{i}"
        tag = f"1.{i % 40}.{rng.randrange(10)}"
        if i % 5 == 0:
            policy = "concurrencyPolicy: Forbid" if rng.random() < 0.5 else ""
            parts.append(CRONJOB.format(app=app, ns=ns, tag=tag, policy=policy))
            count += 1
        elif i % 7 == 0:
            parts.append(DAEMONSET.format(app=app, ns=ns, tag=tag))
            count += 1
        else:
            bad = rng.random() < 0.3  # some applications have findings
            parts.append(
                APP.format(
                    app=app,
                    ns=ns,
                    tag=tag,
                    grace=20 if bad else 45,
                    cpu_limit="cpu: 500m, " if bad else "",
                    liveness="/ready" if bad else "/livez",
                    timeout=1 if bad else 5,
                )
            )
            count += 6
    return "".join(parts)


def best_of(repeat: int, func) -> tuple[float, object]:
    """Best CPU time of `repeat` runs (CPU time, not wall time: other processes on a shared
    machine then distort the numbers less; the work is single-threaded either way)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.process_time()
        result = func()
        best = min(best, time.process_time() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"Python {sys.version.split()[0]}, PyYAML {yaml.__version__} "
        f"(libyaml: {yaml.__with_libyaml__}); docs/s from the best CPU time of {args.repeat} runs"
    )
    ok = True
    for size in args.sizes:
        text = generate(size)
        floor_time, docs = best_of(
            args.repeat, lambda text=text: list(yaml.load_all(text, Loader=yaml.CSafeLoader))
        )
        n = len(docs)
        del docs
        safe_time, _ = best_of(args.repeat, lambda text=text: load_documents(text, UNLIMITED))
        full_time, report = best_of(
            args.repeat, lambda text=text: check_text(text, limits=UNLIMITED)
        )
        floor, safe, full = n / floor_time, n / safe_time, n / full_time
        ratio = full / floor
        print(
            f"\n{n} documents, {len(text) / 1e6:.1f} MB, {report.objects} objects, "
            f"{len(report.findings)} findings, {len(report.errors)} errors"
        )
        print(f"  parse only (yaml.load_all, CSafeLoader): {floor:9,.0f} docs/s")
        print(f"  safe loader (load_documents):            {safe:9,.0f} docs/s")
        print(f"  parse + all rules (check_text):          {full:9,.0f} docs/s")
        print(f"  ratio end-to-end / parse only:           {ratio:9.2f} (target > 0.5)")
        ok = ok and ratio > 0.5 and full >= 2000
    print(f"\ntargets {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
