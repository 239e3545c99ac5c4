#!/usr/bin/env python3
"""Makes a NATS decentralized-auth setup for the tests (what `nsc` makes), with the openssl tool
and the standard library only: an operator, an account with JetStream, and a user of it.

  natsjwt.py DIRECTORY    writes DIRECTORY/operator.jwt, DIRECTORY/user.creds,
                          DIRECTORY/stranger.creds (a user of an account the server does not
                          know) and DIRECTORY/server.conf (the nats-server settings: the
                          operator, and a memory resolver preloaded with the account)

Keys are NKeys (see nkey.py). A JWT is base64url(header) "." base64url(claims) "." base64url(an
Ed25519 signature of the first two by the issuer's key), its header {"typ":"JWT",
"alg":"ed25519-nkey"}; the claims name issuer and subject by their public NKeys, and "jti" is
the base32 SHA-512/256 of the standard claims (iat, iss, name, sub), the "nats" section left
out (github.com/nats-io/jwt, version 2 claims).
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import time

from nkey import PREFIX_USER, Key

PREFIX_OPERATOR = 14 << 3
PREFIX_ACCOUNT = 0


def sign(key, data, directory):
    # openssl 3.0 signs Ed25519 only from a file ("oneshot"), not from a pipe. The files are
    # in the test's own directory (0600), which the test removes whatever happens here.
    base = f"{directory}/.sign-{os.getpid()}-{time.monotonic_ns()}"
    created = []
    try:
        for suffix, content in ((".pem", key.pem), (".in", data)):
            fd = os.open(base + suffix, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            created.append(base + suffix)
            os.write(fd, content)
            os.close(fd)
        return subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", base + ".pem", "-in",
                               base + ".in"], check=True, capture_output=True).stdout
    finally:
        for path in created:
            os.unlink(path)


def b64(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt(issuer, subject, name, nats, directory):
    claims = {"iat": int(time.time()), "iss": issuer.public, "name": name, "sub": subject.public}
    # jti: the hash of the standard claims alone, as nats-io/jwt's ClaimsData.hash() makes it.
    digest = hashlib.new("sha512_256", json.dumps(claims, separators=(",", ":")).encode()).digest()
    claims = {"jti": base64.b32encode(digest).decode().rstrip("="), **claims, "nats": nats}
    header = b64(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}, separators=(",", ":")).encode())
    body = header + "." + b64(json.dumps(claims, separators=(",", ":")).encode())
    return body + "." + b64(sign(issuer, body.encode(), directory))


UNLIMITED = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "wildcards": True, "conn": -1,
             "leaf": -1, "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1}

# The system account may not have JetStream.
JETSTREAM = ("mem_storage", "disk_storage", "streams", "consumer")


def account(operator, name, directory, jetstream=True):
    key = Key(PREFIX_ACCOUNT)
    limits = UNLIMITED if jetstream else {k: v for k, v in UNLIMITED.items() if k not in JETSTREAM}
    return key, jwt(operator, key, name, {"limits": limits, "default_permissions": {"pub": {}, "sub": {}},
                                          "type": "account", "version": 2}, directory)


def creds(account_key, name, directory):
    user = Key(PREFIX_USER)
    token = jwt(account_key, user, name, {"pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1,
                                          "type": "user", "version": 2}, directory)
    return ("-----BEGIN NATS USER JWT-----\n" + token + "\n------END NATS USER JWT------\n\n"
            "************************* IMPORTANT *************************\n"
            "NKEY Seed printed below can be used to sign and prove identity.\n\n"
            "-----BEGIN USER NKEY SEED-----\n" + user.seed + "\n------END USER NKEY SEED------\n")


def write(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def main():
    directory = sys.argv[1]
    operator = Key(PREFIX_OPERATOR)
    write(f"{directory}/operator.jwt",
          jwt(operator, operator, "test-operator", {"type": "operator", "version": 2}, directory) + "\n")
    system_key, system_jwt = account(operator, "SYS", directory, jetstream=False)
    account_key, account_jwt = account(operator, "COLLECTORS", directory)
    write(f"{directory}/user.creds", creds(account_key, "collector", directory))
    stranger_key, _ = account(operator, "UNKNOWN", directory)
    write(f"{directory}/stranger.creds", creds(stranger_key, "stranger", directory))
    write(f"{directory}/server.conf",
          f'operator: "{directory}/operator.jwt"\n'
          f"system_account: {system_key.public}\n"
          "resolver: MEMORY\n"
          f"resolver_preload: {{\n  {system_key.public}: \"{system_jwt}\"\n"
          f"  {account_key.public}: \"{account_jwt}\"\n}}\n")


if __name__ == "__main__":
    main()
