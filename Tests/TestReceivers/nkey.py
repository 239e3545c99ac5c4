#!/usr/bin/env python3
"""Makes a NATS user NKey for the tests, with the openssl tool and the standard library only.

  nkey.py SEED_FILE     writes the user's seed (SU...) to SEED_FILE and prints its public key (U...)

Its Key class (any NKey kind) is also what natsjwt.py signs JWTs with.

The encoding is the NKeys one (github.com/nats-io/nkeys): a prefix byte, the raw Ed25519 key,
a CRC-16/XMODEM of both (little-endian), in base32 without padding.
"""
import base64
import subprocess
import sys

PREFIX_SEED = 18 << 3
PREFIX_USER = 20 << 3


def crc16(data):
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def encode(raw):
    checksum = crc16(raw)
    return base64.b32encode(raw + bytes([checksum & 0xFF, checksum >> 8])).decode().rstrip("=")


class Key:
    """A new Ed25519 key pair of one NKey kind (a prefix byte): its public key and seed encoded,
    and its PEM for openssl to sign with."""

    def __init__(self, prefix):
        self.pem = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519"], check=True,
                                  capture_output=True).stdout
        private = subprocess.run(["openssl", "pkey", "-outform", "DER"], input=self.pem, check=True,
                                 capture_output=True).stdout
        public = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=self.pem, check=True,
                                capture_output=True).stdout
        self.public = encode(bytes([prefix]) + public[-32:])
        self.seed = encode(bytes([PREFIX_SEED | (prefix >> 5), (prefix & 31) << 3]) + private[-32:])


def main():
    user = Key(PREFIX_USER)
    with open(sys.argv[1], "w") as f:
        f.write(user.seed + "\n")
    print(user.public)


if __name__ == "__main__":
    main()
