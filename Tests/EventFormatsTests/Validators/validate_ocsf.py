#!/usr/bin/env python3
"""Validates OCSF events (NDJSON, one per line) against the OCSF schema of VERSION, as exported
by schema.ocsf.io and shipped in the ocsf-json-schema package (PyPI), with jsonschema: offline.
Each event is checked against its class (class_uid) with the profiles it lists in
metadata.profiles. Prints one line per problem and exits 1, or prints "ok N".

usage: validate_ocsf.py VERSION FILE.ndjson"""
import json, sys
from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

version, path = sys.argv[1], sys.argv[2]
ocsf = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=version))
validators, failed, count = {}, 0, 0
for number, line in enumerate(open(path, encoding="utf-8"), 1):
    event, count = json.loads(line), count + 1
    try:
        name = ocsf.lookup_class_name_from_uid(event["class_uid"])
    except (KeyError, ValueError) as e:
        print(f"line {number}: OCSF {version}: unknown class_uid: {e}"); failed += 1; continue
    profiles = tuple(event.get("metadata", {}).get("profiles", []))
    if (name, profiles) not in validators:
        validators[(name, profiles)] = Draft202012Validator(ocsf.get_class_schema(class_name=name, profiles=list(profiles)))
    for e in sorted(validators[(name, profiles)].iter_errors(event), key=lambda e: list(e.absolute_path))[:5]:
        print(f"line {number}: OCSF {version} {name}: /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}")
        failed += 1
print(f"ok {count}" if not failed else f"{failed} problem(s)")
sys.exit(1 if failed else 0)
