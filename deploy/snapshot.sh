#!/bin/sh
# Collect a read-only cluster snapshot for the exposure report ("Am I exposed?"):
#   deploy/snapshot.sh [DIR]            (default DIR: ./cluster-snapshot)
# then `kbcheck --cluster-snapshot DIR`, or upload the files on /exposure/, or
#   curl -F snapshot=@DIR/version.json -F snapshot=@DIR/nodes.json ... /api/v1/exposure/
#
# Needs only `get`/`list` on the kinds below (the built-in `view` ClusterRole plus nodes and
# webhook configurations). Secrets are never read. ConfigMaps are included because CoreDNS and
# kube-proxy keep their settings there: drop `configmaps` from the list if yours hold secrets.
set -eu
dir=${1:-cluster-snapshot}
mkdir -p "$dir"
kubectl version -o json > "$dir/version.json"
kubectl get --raw /version > "$dir/version-raw.json"
kubectl get nodes -o json > "$dir/nodes.json"
kubectl get pods,deploy,ds,sts,svc,ingress,validatingwebhookconfigurations,mutatingwebhookconfigurations,configmaps \
  -A -o json > "$dir/objects.json"
echo "snapshot written to $dir/ ($(du -sh "$dir" | cut -f1))" >&2
