#!/usr/bin/env python3
"""Checks the rules of ARCHITECTURE.md that the compiler does not: `make test` runs it.

1. Dependencies run one way. Each library target may depend on (and its files import) only the
   modules listed for it below; read from `swift package dump-package` and from the `import`
   lines of every file, so a module reached transitively cannot sneak in either.
2. No source file over 450 lines, no function (or initializer, or computed property) over 80.

Exits 1 with one line per violation, naming the file, line or target.
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_FILE_LINES = 450
MAX_FUNCTION_LINES = 80

# Modules any target may import: the toolchain's own.
PLATFORM = {"Foundation", "FoundationEssentials", "Glibc", "Musl", "Darwin", "Dispatch", "Synchronization",
            "Testing", "XCTest", "_Concurrency"}

# Who may use whom. Library targets only; tests, harnesses and executables sit on top and may use
# anything below them.
ALLOWED = {
    "CollectorSystem": {"CZlib", "DequeModule"},
    "CollectorCore": {"CollectorSystem", "Logging", "ServiceLifecycle", "DequeModule"},
    "CurlTransport": {"CCurl", "CollectorSystem"},
    "GzipStream": {"CZlib"},
    "NatsClient": {"CNats"},
    "EventFormats": {"CollectorCore"},
    "CollectorConfig": {"CollectorCore", "CollectorSystem", "Yams"},
    "CollectorSinks": {"CollectorCore", "CollectorSystem", "EventFormats", "CurlTransport", "GzipStream", "COpenSSL",
                       "NatsClient", "Logging"},
    # Metrics: swift-metrics' API only (the backend is the runtime's choice).
    "GraphSecuritySource": {"CollectorCore", "CollectorSystem", "CurlTransport", "COpenSSL", "Logging", "Metrics"},
    "GraphSimulator": {"CollectorCore", "CollectorSystem", "GraphSecuritySource", "FlyingFox"},
    # The kit third-party sink authors test with: the core contract and configuration decoding.
    "CollectorTesting": {"CollectorCore", "CollectorConfig", "Logging"},
    "CollectorRuntime": {"CollectorCore", "CollectorSystem", "CollectorConfig", "CollectorSinks", "GraphSecuritySource",
                         "GraphSimulator", "NatsClient", "CurlTransport", "GzipStream", "ArgumentParser", "Logging",
                         "ServiceLifecycle", "UnixSignals", "FlyingFox", "Yams", "Metrics", "Prometheus"},
}


def package():
    out = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def dependency_names(target):
    names = []
    for dep in target.get("dependencies", []):
        kind, value = next(iter(dep.items()))
        names.append(value[0])
    return names


def target_path(target):
    if target.get("path"):
        return os.path.join(ROOT, target["path"])
    base = "Tests" if target["type"] == "test" else "Sources"
    return os.path.join(ROOT, base, target["name"])


def swift_files(directory):
    for folder, _, files in os.walk(directory):
        for name in sorted(files):
            if name.endswith(".swift"):
                yield os.path.join(folder, name)


def check_dependencies(manifest, problems):
    targets = {t["name"]: t for t in manifest["targets"]}
    for name, allowed in ALLOWED.items():
        target = targets.get(name)
        if target is None:
            problems.append(f"Package.swift: target {name} is gone; update scripts/check-structure.py")
            continue
        for dep in dependency_names(target):
            if dep not in allowed:
                problems.append(f"Package.swift: {name} must not depend on {dep} (allowed: {', '.join(sorted(allowed))})")
        for path in swift_files(target_path(target)):
            for number, line in enumerate(open(path, encoding="utf-8"), 1):
                m = re.match(r"\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:public |package |internal |private |fileprivate )?"
                             r"import\s+(?:(?:struct|class|enum|func|protocol|typealias|var|let)\s+)?(\w+)", line)
                if m and m.group(1) not in allowed | PLATFORM | {name}:
                    problems.append(f"{os.path.relpath(path, ROOT)}:{number}: {name} must not import {m.group(1)}")


DECLARATION = re.compile(
    r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|package|private|fileprivate|internal|static|override|nonisolated|"
    r"final|mutating|convenience|required|class)\s+)*(func\s+[^\s(<]+|init[?!]?|deinit|(?:var|let)\s+\w+\s*:[^=]*\{\s*$)")
STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def check_sizes(problems):
    for top in ["Sources", "Tests", "Benchmarks", "Fuzz", "Examples"]:
        for path in swift_files(os.path.join(ROOT, top)):
            if "/.build" in path:
                continue
            lines = open(path, encoding="utf-8").read().split("\n")
            relative = os.path.relpath(path, ROOT)
            if len(lines) - 1 > MAX_FILE_LINES:
                problems.append(f"{relative}: {len(lines) - 1} lines (at most {MAX_FILE_LINES}); split it by concept")
            for start, line in enumerate(lines):
                m = DECLARATION.match(line)
                if not m:
                    continue
                length = function_length(lines, start)
                if length and length > MAX_FUNCTION_LINES:
                    problems.append(f"{relative}:{start + 1}: {m.group(1).split('(')[0]} is {length} lines "
                                    f"(at most {MAX_FUNCTION_LINES})")


def function_length(lines, start):
    """Lines from the declaration to its closing brace; None for a declaration without a body."""
    depth, opened = 0, False
    in_multiline = False
    for index in range(start, len(lines)):
        text = lines[index]
        if text.count('"""') % 2 == 1:
            in_multiline = not in_multiline
            continue
        if in_multiline:
            continue
        code = STRING.sub('""', text).split("//")[0]
        for char in code:
            if char == "{":
                depth += 1
                opened = True
            elif char == "}":
                depth -= 1
        if opened and depth <= 0:
            return index - start + 1
        if not opened and index > start + 8:
            return None
    return None


def main():
    problems = []
    check_dependencies(package(), problems)
    check_sizes(problems)
    for problem in problems:
        print(problem)
    if problems:
        print(f"check-structure: {len(problems)} problem(s); the rules are in ARCHITECTURE.md")
        return 1
    print("check-structure: dependencies run one way; no file over 450 lines, no function over 80")
    return 0


if __name__ == "__main__":
    sys.exit(main())
