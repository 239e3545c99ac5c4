#!/usr/bin/env python3
"""Parses CEF lines with cefp (PyPI), a parser we did not write, and prints each as one JSON
object: {"vendor", "product", "version", "signature", "name", "severity", "extension": {...}}.

usage: cef_parse.py FILE   (one CEF message per line, starting at "CEF:")"""
import json, sys
import cefp

for number, line in enumerate(open(sys.argv[1], encoding="utf-8", newline="\n"), 1):
    line = line.rstrip("\n")
    try:
        d = cefp.parse(line)
    except Exception as e:  # a line cefp cannot read fails the test, with its number
        print(f"line {number}: cefp cannot parse it: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({
        "vendor": d["device"]["vendor"], "product": d["device"]["product"], "version": d["device"]["version"],
        "signature": d["device"]["event_class_id"], "name": d["name"], "severity": d["severity"],
        "extension": d["extension"],
    }, ensure_ascii=False))
