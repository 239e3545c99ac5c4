#!/usr/bin/env python3
"""Makes a NATS user NKey for the tests, with the openssl tool and the standard library only.

  nkey.py SEED_FILE     writes the user's seed (SU...) to SEED_FILE and prints its public key (U...)

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


def main():
    pem = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519"], check=True, capture_output=True).stdout
    private = subprocess.run(["openssl", "pkey", "-outform", "DER"], input=pem, check=True, capture_output=True).stdout
    public = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=pem, check=True,
                            capture_output=True).stdout
    seed, key = private[-32:], public[-32:]
    seed_text = encode(bytes([PREFIX_SEED | (PREFIX_USER >> 5), (PREFIX_USER & 31) << 3]) + seed)
    with open(sys.argv[1], "w") as f:
        f.write(seed_text + "\n")
    print(encode(bytes([PREFIX_USER]) + key))


if __name__ == "__main__":
    main()
