"""Check NDJSON documents against the reduced ECS fixture (standard library only).

Usage: python3 ecs_check.py FIXTURE.json FILE.ndjson [CUSTOM_PREFIX ...]
Prints one line per problem and exits 1, or prints "ok".
"""
import ipaddress, json, re, sys

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
OPAQUE = {"object", "flattened", "nested", "geo_point"}  # members not listed in ECS are free below these
INT, NUM = (lambda v: type(v) is int), (lambda v: type(v) in (int, float))
STR = lambda v: isinstance(v, str)


def is_ip(v):
    try:
        return STR(v) and bool(ipaddress.ip_address(v))
    except ValueError:
        return False


FITS = {"keyword": STR, "constant_keyword": STR, "wildcard": STR, "text": STR, "match_only_text": STR,
        "long": INT, "integer": INT, "short": INT, "byte": INT, "unsigned_long": INT,
        "float": NUM, "half_float": NUM, "scaled_float": NUM, "double": NUM, "ip": is_ip,
        "boolean": lambda v: type(v) is bool, "date": lambda v: STR(v) and bool(DATE.match(v))}


def leaves(value, path=""):
    """(dotted name, value) pairs; objects inside arrays share the array's name."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list) and any(isinstance(x, dict) for x in value):
        for x in value:
            yield from leaves(x, path)
    else:
        yield path, value


def check(doc, fx, custom):
    fields, errs = fx["fields"], []
    opaque = [p for p, spec in fields.items() if spec[0] in OPAQUE]
    for name, value in leaves(doc):
        if any(name == c or name.startswith(c + ".") for c in custom):
            continue
        values = value if isinstance(value, list) else [value]
        if name not in fields:
            under = next((p for p in opaque if name.startswith(p + ".")), None)
            if under is None:
                errs.append(f"{name}: not an ECS {fx['ecs_version']} field and not under {custom}")
            elif fx["object_types"].get(under) == "keyword":
                errs += [f"{name}: {v!r} must be a string ({under} values are keywords)" for v in values if not STR(v)]
            continue
        kind = fields[name][0]
        fits = FITS.get(kind, lambda v: kind in OPAQUE and isinstance(v, (dict, str)))
        errs += [f"{name}: {v!r} does not fit ECS type {kind}" for v in values if not fits(v)]
        allowed = fx["allowed_values"].get(name)
        errs += [f"{name}: {v!r} is not an allowed value" for v in values if allowed and v not in allowed]
        if "array" in fields[name] and name.startswith("event.") and not isinstance(value, list):
            errs.append(f"{name}: must be an array")
    event = doc.get("event", {})
    if event.get("kind") == "signal":
        errs.append("event.kind: 'signal' is reserved for Kibana's own alerts")
    cats, types = event.get("category"), event.get("type")
    for cat in cats if isinstance(cats, list) else []:
        bad = set(types if isinstance(types, list) else []) - set(fx["expected_event_types"].get(cat, []))
        errs += [f"event.type {t!r} is not expected with event.category {cat!r}" for t in sorted(bad)]
    if "@timestamp" not in doc or doc.get("ecs", {}).get("version") != fx["ecs_version"]:
        errs.append("@timestamp missing or ecs.version is not " + fx["ecs_version"])
    return errs


if __name__ == "__main__":
    fixture, custom = json.load(open(sys.argv[1])), sys.argv[3:]
    problems = [f"line {n}: {e}" for n, line in enumerate(open(sys.argv[2]), 1) if line.strip()
                for e in check(json.loads(line), fixture, custom)]
    print("\n".join(problems) or "ok")
    sys.exit(1 if problems else 0)
