"""Time and peak memory of a manifest check on hostile inputs at the size limit.

    python bench/hostile_bench.py [--cases deployments pod-list tiny-docs sexagesimal]
                                  [--paths cli api page-paste page-upload]

Each measurement runs in a fresh process (Django set up, the rules imported and one small
check run first): it prints CPU seconds, seconds per MB, and the peak RSS growth over that
warm baseline (ru_maxrss), for the CLI path (`engine.check_text`, what `kbcheck` runs), the API
(`POST /api/v1/check/`, raw body) and the web page (paste and file upload), each through
Django's test client in-process. Targets (issue 19): at most about 1 s per MB, peak RSS growth
at most 150 MB per request at the size limit, API and page about the CLI's time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 5 * 1024 * 1024 - 4096

DEPLOYMENT = """---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web-{i}, namespace: shop}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web-{i}}}}}
  template:
    metadata: {{labels: {{app: web-{i}}}}}
    spec:
      containers:
      - name: app
        image: example.com/web:latest
        ports: [{{containerPort: 8080}}]
        env: [{{name: A, value: b}}, {{name: C, value: d}}]
"""


def _fill(make, limit: int = LIMIT) -> str:
    parts, size, i = [], 0, 0
    while True:
        part = make(i)
        if size + len(part) > limit:
            return "".join(parts)
        parts.append(part)
        size += len(part)
        i += 1


def make_case(name: str) -> str:
    if name == "deployments":
        return _fill(lambda i: DEPLOYMENT.format(i=i))
    if name == "pod-list":
        pod = (
            '{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"p-{i}","namespace":"shop",'
            '"labels":{{"app":"web"}}}},"spec":{{"containers":[{{"name":"c","image":"ex/web:latest",'
            '"resources":{{}},"env":[{{"name":"A","value":"b"}}]}}]}}}}'
        )
        items = _fill(lambda i: ("," if i else "") + pod.format(i=i), LIMIT - 100)
        return '{"apiVersion":"v1","kind":"List","items":[' + items + "]}"
    if name == "tiny-docs":  # 100,000 documents (the limit is 10,000)
        return "---\na: 1\n" * 100_000
    if name == "empty-docs":  # 100,000 empty documents
        return "---\n" * 100_000
    if name == "sexagesimal":
        return "kind: Deployment\nspec:\n  replicas: 1" + ":0" * 700_000 + "\n"
    raise SystemExit(f"unknown case {name}")


CHILD = r"""
import json, os, resource, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
from incidents.rules.engine import check_text
setup_test_environment()
path, case_file = sys.argv[1], sys.argv[2]
text = open(case_file, "rb").read()
client = Client()
check_text("kind: Pod\nmetadata: {name: x}\n")  # warm: rules imported, caches filled
if path != "cli":
    client.post("/api/v1/check/", data=b"kind: Pod\n", content_type="application/yaml")
    client.post("/check/", {"manifest": "kind: Pod\n"})
from django.test.client import BOUNDARY, encode_multipart
from django.core.files.uploadedfile import SimpleUploadedFile
# Request bodies are encoded before the baseline: a server holds the body it reads, not the
# client's copies.
if path == "page-paste":
    body = encode_multipart(BOUNDARY, {"manifest": text.decode()})
elif path == "page-upload":
    body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("m.yaml", text, "text/yaml")})
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
cpu = time.process_time()
if path == "cli":
    report = check_text(text)
    status = report.exit_code("warning")
else:
    if path == "api":
        response = client.post("/api/v1/check/", data=text, content_type="application/yaml")
    else:
        multipart = f"multipart/form-data; boundary={BOUNDARY}"
        response = client.post("/check/", data=body, content_type=multipart)
    status = response.status_code
    if response.streaming:  # consumed and dropped piece by piece, as a server sends it
        for _ in response.streaming_content:
            pass
    del response
cpu = time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"status": status, "cpu": cpu, "growth_mb": (peak - base) / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["deployments", "pod-list", "tiny-docs",
                                                      "sexagesimal"])  # fmt: skip
    parser.add_argument("--paths", nargs="+", default=["cli", "api", "page-paste", "page-upload"])
    args = parser.parse_args()
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"kb-hostile-bench-{os.getpid()}"
    tmp.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DEBUG": "false",
        "KB_TESTING": "true",
        "KB_WEB_CHECK_THROTTLE": "100000/minute",
        "LOG_LEVEL": "error",
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "KB_VAR_DIR": str(tmp),
    }
    for command in (["migrate", "-v0"], ["createcachetable"], ["sync_rules"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=300)  # fmt: skip
    print(f"{'case':<12} {'MB':>5} {'path':<12} {'status':>6} {'cpu s':>7} {'s/MB':>6} "
          f"{'peak +MB':>9}")  # fmt: skip
    for case in args.cases:
        text = make_case(case)
        path = tmp / f"{case}.yaml"
        path.write_text(text)
        mb = len(text.encode()) / 1e6
        for how in args.paths:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, how, str(path)],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            if out.returncode != 0:
                print(f"{case:<12} {mb:5.2f} {how:<12} failed: {out.stderr[-500:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{case:<12} {mb:5.2f} {how:<12} {r['status']:>6} {r['cpu']:7.2f} "
                f"{r['cpu'] / mb:6.2f} {r['growth_mb']:9.0f}"
            )


if __name__ == "__main__":
    main()
