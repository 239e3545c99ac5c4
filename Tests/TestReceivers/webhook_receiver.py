#!/usr/bin/env python3
"""A webhook receiver for the tests, independent of the collector's code: verifies Standard
Webhooks signatures (and X-Hub-Signature-256) with Python's hmac, and again with the
`standardwebhooks` package from PyPI (the specification's reference library); fails the first N
requests with 500 or 429, then accepts; answers 500 while <dir>/fail exists. HTTP/1.1 with
keep-alive; HTTPS when given a directory holding server.pem and server.key. Writes its port to
<dir>/port, every attempt (with the client's connection) to <dir>/attempts.jsonl and every
accepted event line to <dir>/events.ndjson."""
import base64, gzip, hashlib, hmac, json, os, ssl, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from standardwebhooks import Webhook, WebhookVerificationError

directory, secrets, github_secret, failures = sys.argv[1], sys.argv[2].split(","), sys.argv[3], int(sys.argv[4])
reject_ids = set(filter(None, sys.argv[5].split(","))) if len(sys.argv) > 5 else set()
tls_directory = sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] != "-" else None
lock = threading.Lock()
state = {"failures": failures}

def key(secret):
    return base64.b64decode(secret[6:]) if secret.startswith("whsec_") else secret.encode()

def standard_verifies(body, headers):
    """True when every whsec_ secret verifies with the reference library; None without such
    secrets, or for a gzip body (the library takes the body as UTF-8 text)."""
    standard = [s for s in secrets if s.startswith("whsec_")]
    if not standard or headers.get("Content-Encoding") == "gzip":
        return None
    fields = {k: headers.get(k, "") for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    try:
        for secret in standard:
            Webhook(secret).verify(body, fields, json_parse=False)
        return True
    except WebhookVerificationError:
        return False

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a connection carries many requests

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        wid, ts = self.headers.get("webhook-id", ""), self.headers.get("webhook-timestamp", "")
        signed = f"{wid}.{ts}.".encode() + body
        expected = {"v1," + base64.b64encode(hmac.new(key(s), signed, hashlib.sha256).digest()).decode() for s in secrets}
        given = set(self.headers.get("webhook-signature", "").split(" "))
        valid = bool(expected & given) and len(given) == len(secrets)
        standard = standard_verifies(body, self.headers)
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
                f.write(json.dumps({"id": wid, "status": status, "valid": valid, "standard": standard,
                                    "connection": "%s:%d" % self.client_address[:2],
                                    "auth": self.headers.get("Authorization", "")}) + "\n")
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
if tls_directory:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(tls_directory, "server.pem"), os.path.join(tls_directory, "server.key"))
    server.socket = context.wrap_socket(server.socket, server_side=True)
with open(os.path.join(directory, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
server.serve_forever()
