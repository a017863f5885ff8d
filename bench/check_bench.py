"""Benchmark the manifest checks: in-process throughput, then `kbcheck` end to end as a process.

    .venv/bin/python bench/check_bench.py [--sizes 1000 10000] [--repeat 3] [--cpu 0]

Generates realistic multi-document YAML (an application = ConfigMap, Deployment, Service,
Ingress, PodDisruptionBudget, HorizontalPodAutoscaler; plus CronJobs, StatefulSets and
DaemonSets, some well configured and some not).

In process, it prints documents per second for
- `yaml.load_all(..., Loader=yaml.CSafeLoader)`: PyYAML's C loader, the floor;
- `parsing.load_documents`: the safe loader the engine uses (limits, duplicate keys, lines);
- `engine.check_text`: safe loading plus every manifest rule, findings with lines;
and the ratio end-to-end / floor, from the best CPU time of a few runs. Targets: ratio above
0.5 (all rules cost less than parsing) and at least 2,000 documents per second on one core.

As a process (the `kbcheck` console script next to this Python, else `python -m
incidents.rules.cli`), it prints
- start-up to first output: spawn to the first byte on stdout for a one-file check (median of
  --starts runs, not pinned; target at most 150 ms);
- for the largest size, written as a directory of files (as a repository holds them, each under
  the 5 MiB input limit), in every output format, pinned to one core (--cpu): CPU time of the
  process (user + system; target at most 2 s) and its peak RSS (target at most 150 MB), from
  wait4();
- the same check with checkov (`checkov -d DIR --framework kubernetes`) and the CPU-time ratio,
  when `checkov` is on PATH (it is not a dependency).
Wall-clock numbers on a shared machine vary with the other load; CPU time and RSS much less.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from incidents.rules.engine import check_text
from incidents.rules.formats import FORMATS
from incidents.rules.parsing import Limits, load_documents

ROOT = Path(__file__).resolve().parents[1]
SMALL_INPUT = ROOT / "tests" / "rules" / "apps" / "well-configured.yaml"
FILE_BYTES = 1 << 20  # split the generated input into files of about 1 MiB

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


def kbcheck_command() -> list[str]:
    script = Path(sys.executable).parent / "kbcheck"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "incidents.rules.cli"]


# A small process that starts the measured ones. Linux counts the memory of the process that
# forks into a child's peak RSS (ru_maxrss starts from the forking process's high-water mark),
# so children forked from this benchmark, which holds the generated input, would all look at
# least as big as it; forked from this launcher (a few MB) they show their own peak.
LAUNCHER = """
import json, os, sys, time
for line in sys.stdin:
    job = json.loads(line)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            if job["cpu"] >= 0 and hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, {job["cpu"]})
            os.chdir(job["cwd"])
            null = os.open(os.devnull, os.O_RDWR)
            pipe = job["first_byte"]
            if not pipe:
                os.dup2(null, 1)
            os.dup2(null, 2)
            os.execv(job["command"][0], job["command"])
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    print(json.dumps({
        "wall": time.perf_counter() - start,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "code": os.waitstatus_to_exitcode(status),
    }), flush=True)
"""


class Launcher:
    """Runs commands from a small process and reports wall time, CPU time and peak RSS."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

    def run(self, command: list[str], cpu: int, cwd: Path = ROOT) -> dict:
        job = {"command": command, "cpu": cpu, "cwd": str(cwd), "first_byte": False}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def first_output(command: list[str]) -> tuple[float, float]:
    """(seconds from spawning the process to the first byte on its stdout, its CPU seconds).

    Not pinned: the target is the latency a user sees, not CPU time on a given core.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
    process.stdout.read(1)
    elapsed = time.perf_counter() - start
    process.stdout.read()
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return elapsed, usage.ru_utime + usage.ru_stime


def write_tree(text: str, directory: Path) -> int:
    """The documents of `text` as files of about FILE_BYTES each; returns the file count."""
    files, part, size = 0, [], 0
    for document in text.split("\n---\n"):
        part.append(document)
        size += len(document)
        if size >= FILE_BYTES:
            (directory / f"part-{files:03d}.yaml").write_text("\n---\n".join(part) + "\n")
            files, part, size = files + 1, [], 0
    if part:
        (directory / f"part-{files:03d}.yaml").write_text("\n---\n".join(part) + "\n")
        files += 1
    return files


def process_bench(size: int, cpu: int, starts: int, launcher: Launcher) -> bool:
    command = kbcheck_command()
    print(f"\nkbcheck as a process: {' '.join(command)} (core {cpu if cpu >= 0 else 'any'})")
    first_output([*command, str(SMALL_INPUT)])  # warm the file cache
    runs = [first_output([*command, str(SMALL_INPUT)]) for _ in range(starts)]
    median = statistics.median(t for t, _ in runs)
    print(
        f"  start-up to first output (one small file): median {median * 1000:.0f} ms, "
        f"best {min(t for t, _ in runs) * 1000:.0f} ms over {starts} runs (target <= 150 ms); "
        f"CPU median {statistics.median(c for _, c in runs) * 1000:.0f} ms"
    )
    ok = median <= 0.150
    with tempfile.TemporaryDirectory(prefix="kb-check-bench-") as tmp:
        directory = Path(tmp)
        text = generate(size)
        files = write_tree(text, directory)
        print(f"  {size:,} documents ({len(text) / 1e6:.1f} MB in {files} files):")
        del text
        cpu_times = []
        for fmt in FORMATS:
            r = launcher.run([*command, str(directory), "--format", fmt], cpu)
            cpu_times.append(r["cpu"])
            print(
                f"    --format {fmt:<12} CPU {r['cpu']:5.2f} s (target <= 2), peak RSS "
                f"{r['rss_mb']:4.0f} MB (target <= 150), wall {r['wall']:5.2f} s, exit {r['code']}"
            )
            ok = ok and r["cpu"] <= 2.0 and r["rss_mb"] <= 150 and r["code"] in (0, 1)
        checkov = shutil.which("checkov")
        if checkov:
            r = launcher.run(
                [
                    checkov,
                    "-d",
                    str(directory),
                    "--framework",
                    "kubernetes",
                    "--quiet",
                    "--compact",
                    "-o",
                    "json",
                ],
                cpu,
            )
            print(
                f"    checkov -d DIR        CPU {r['cpu']:5.2f} s, peak RSS {r['rss_mb']:4.0f} MB, "
                f"wall {r['wall']:5.2f} s: kbcheck takes {r['cpu'] / min(cpu_times):.1f}x less CPU"
            )
        else:
            print("    checkov: not on PATH, no comparison")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--starts", type=int, default=15, help="start-up runs to time")
    parser.add_argument(
        "--cpu", type=int, default=0, help="the one core to run processes on (-1: do not pin)"
    )
    parser.add_argument("--no-process", action="store_true", help="in-process numbers only")
    args = parser.parse_args()
    launcher = None if args.no_process else Launcher()  # started while this process is small
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
    if not args.no_process:
        ok = process_bench(max(args.sizes), args.cpu, args.starts, launcher) and ok
        launcher.close()
    print(f"\ntargets {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
