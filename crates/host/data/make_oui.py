#!/usr/bin/env python3
"""Builds oui.tsv.gz, the vendor table trident-host bundles, from Debian's ieee-data.

usage: python3 make_oui.py [IEEE_DATA_DIR] > /dev/null   (writes oui.tsv.gz beside this file)

Reads the IEEE Registration Authority's public listings as Debian's `ieee-data` package ships
them (/usr/share/ieee-data/{oui,mam,oui36,iab}.csv: MA-L 24-bit, MA-M 28-bit, MA-S and IAB
36-bit assignments) and writes one line per assignment, sorted, deterministic (gzip without
a timestamp):

    <prefix in hex, 6/7/9 digits>\t<organization name>

The prefix length is the number of hex digits (24, 28 or 36 bits). Names are trimmed and
inner whitespace collapsed; nothing else is changed.
"""
import csv
import gzip
import io
import os
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/ieee-data"
FILES = ["oui.csv", "mam.csv", "oui36.csv", "iab.csv"]
DIGITS = {"MA-L": 6, "MA-M": 7, "MA-S": 9, "IAB": 9}

rows = {}
for name in FILES:
    with open(os.path.join(SRC, name), newline="", encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            reg = rec["Registry"].strip()
            prefix = rec["Assignment"].strip().upper()
            org = " ".join(rec["Organization Name"].split())
            if reg not in DIGITS or len(prefix) != DIGITS[reg] or not org:
                continue
            if any(c not in "0123456789ABCDEF" for c in prefix):
                continue
            rows.setdefault(prefix, org)

text = "".join(f"{p}\t{o}\n" for p, o in sorted(rows.items()))
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oui.tsv.gz")
buf = io.BytesIO()
with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0, filename="") as g:
    g.write(text.encode("utf-8"))
with open(out, "wb") as f:
    f.write(buf.getvalue())
print(f"{out}: {len(rows)} assignments, {len(buf.getvalue())} bytes", file=sys.stderr)
