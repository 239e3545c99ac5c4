"""One-off: reduce Elastic's ecs_flat.yml to the JSON our ECS checker reads.

Usage: python3 make_fixture.py ecs_flat.yml 8.17.0 <commit> > ecs-8.17.0-fields.json
Needs PyYAML (pip install pyyaml); the committed JSON needs nothing.
"""
import hashlib, json, sys
import yaml

path, version, commit = sys.argv[1:4]
data = open(path, "rb").read()
flat = yaml.safe_load(data)
fields = {}
for name, spec in sorted(flat.items()):
    entry = [spec["type"]]
    if "array" in spec.get("normalize", []):
        entry.append("array")
    fields[name] = entry
allowed = {}
for name in ("event.kind", "event.category", "event.type", "event.outcome"):
    allowed[name] = [v["name"] for v in flat[name]["allowed_values"]]
expected_types = {
    v["name"]: v.get("expected_event_types", []) for v in flat["event.category"]["allowed_values"]
}
# Objects whose members ECS types as a whole (`labels`: every value is a keyword).
object_types = {n: s["object_type"] for n, s in sorted(flat.items()) if s.get("object_type")}
out = {
    "ecs_version": version,
    "source": {
        "repository": "https://github.com/elastic/ecs",
        "path": "generated/ecs/ecs_flat.yml",
        "tag": "v" + version,
        "commit": commit,
        "sha256": hashlib.sha256(data).hexdigest(),
        "license": "Apache-2.0",
        "notice": "Elastic Common Schema. Copyright 2018-2021 Elasticsearch B.V. "
        "Reduced to field name, type and array normalization, and the allowed values "
        "of the categorization fields.",
    },
    "fields": fields,
    "allowed_values": allowed,
    "expected_event_types": expected_types,
    "object_types": object_types,
}
# One field per line, so a version bump reviews as a readable diff.
lines = ["{"]
for key in ("ecs_version", "source", "allowed_values", "expected_event_types", "object_types"):
    lines.append(json.dumps(key) + ": " + json.dumps(out[key], sort_keys=True) + ",")
lines.append('"fields": {')
items = [json.dumps(k) + ": " + json.dumps(v) for k, v in fields.items()]
lines.append(",\n".join(items))
lines.append("}}")
sys.stdout.write("\n".join(lines) + "\n")
