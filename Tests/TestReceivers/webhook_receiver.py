#!/usr/bin/env python3
"""A webhook receiver for the tests, independent of the collector's code: verifies Standard
Webhooks signatures (and X-Hub-Signature-256) with Python's hmac, fails the first N requests
with 500 or 429, then accepts; answers 500 while <dir>/fail exists. Writes its port to <dir>/port, every attempt to
<dir>/attempts.jsonl and every accepted event line to <dir>/events.ndjson."""
import base64, gzip, hashlib, hmac, json, os, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

directory, secrets, github_secret, failures = sys.argv[1], sys.argv[2].split(","), sys.argv[3], int(sys.argv[4])
reject_ids = set(filter(None, sys.argv[5].split(","))) if len(sys.argv) > 5 else set()
lock = threading.Lock()
state = {"failures": failures}

def key(secret):
    return base64.b64decode(secret[6:]) if secret.startswith("whsec_") else secret.encode()

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        wid, ts = self.headers.get("webhook-id", ""), self.headers.get("webhook-timestamp", "")
        signed = f"{wid}.{ts}.".encode() + body
        expected = {"v1," + base64.b64encode(hmac.new(key(s), signed, hashlib.sha256).digest()).decode() for s in secrets}
        given = set(self.headers.get("webhook-signature", "").split(" "))
        valid = bool(expected & given) and len(given) == len(secrets)
        if github_secret != "-":
            gh = "sha256=" + hmac.new(github_secret.encode(), body, hashlib.sha256).hexdigest()
            valid = valid and hmac.compare_digest(gh, self.headers.get("X-Hub-Signature-256", ""))
        with lock:
            if not valid:
                status = 401
            elif os.path.exists(os.path.join(directory, "fail")):
                status = 500
            elif wid in reject_ids:
                status = 400
            elif state["failures"] > 0:
                status = 500 if state["failures"] % 2 == 0 else 429
                state["failures"] -= 1
            else:
                status = 200
            with open(os.path.join(directory, "attempts.jsonl"), "a") as f:
                f.write(json.dumps({"id": wid, "status": status, "valid": valid, "auth": self.headers.get("Authorization", "")}) + "\n")
            if status == 200:
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                text = body.decode()
                lines = [json.dumps(e, separators=(",", ":")) for e in json.loads(text)] if text.startswith("[") else text.splitlines()
                with open(os.path.join(directory, "events.ndjson"), "a") as f:
                    for line in lines:
                        f.write(json.dumps({"webhook_id": wid, "event": json.loads(line)}) + "\n")
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "1")
        payload = b'{"error":"bad request: schema"}' if status == 400 else b""
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(directory, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
server.serve_forever()
