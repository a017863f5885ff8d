"""'Am I exposed?': match a read-only cluster snapshot against the stories' exposure conditions.

Plain Python like the rule engine (no Django): `snapshot` reads what `deploy/snapshot.sh`
collects, `versions` compares the version strings clusters report, `conditions` reads the
curated `incidents/data/exposure.yaml`, `assess` evaluates them and `formats` renders the report.
"""
