"""External DNS names a pod spec mentions: the evidence KB026 (ndots) needs.

How many external lookups a workload makes is not in its manifest. What is there are the names
it is configured to call: URLs and host names in env values, commands and args. Names inside
the cluster domain, file names and IP addresses are not external lookups.
"""

from __future__ import annotations

import re

from incidents.rules.objects import K8sObject, as_dict, as_list, as_str, containers

# a DNS name with a dot and a public-looking top-level label, as in env values and URLs
_HOST = re.compile(r"(?<![\w.@-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,6})(?![\w-])")
NOT_HOSTS = (".local", ".svc", ".internal", ".lan", ".cluster", ".localdomain")
# generic top-level domains seen in configuration; any two-letter label is a country code.
# Short in-cluster names (`redis.cache`, `db.default`) end in a namespace, not in these.
TOP_LEVEL = {"com", "net", "org", "io", "dev", "cloud", "app", "ai", "co", "info", "biz", "tech"}
FILE_SUFFIXES = {"py", "js", "sh", "go", "so", "db", "gz", "md", "rb", "pl", "ts"}


def external_hosts(obj: K8sObject) -> set[str]:
    """External DNS names the pod's env values, commands and args mention (fewer than 5 dots,
    outside the cluster domain): the only evidence a manifest gives of external lookups."""
    texts = []
    for container, _ in containers(obj, init=True):
        texts += [as_str(as_dict(e).get("value")) for e in as_list(container.get("env"))]
        texts += [
            as_str(a) for a in as_list(container.get("args")) + as_list(container.get("command"))
        ]
    hosts = set()
    for text in texts:
        for host in _HOST.findall(text.lower()):
            top = host.rsplit(".", 1)[1]
            if host.count(".") >= 5 or host.endswith(NOT_HOSTS) or top in FILE_SUFFIXES:
                continue
            if top in TOP_LEVEL or len(top) == 2:
                hosts.add(host)
    return hosts
