#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
The netlink spec against the uAPI header, on the host (TAP): the YAML
parses; every attribute set, attribute, definition and operation has a
doc; the attributes of the kdtls and key sets, the enums and the stats are
the header's enumerators, in the header's order (append-only: a reorder or
a gap is a uAPI break); operations name only attributes that exist.
"""
import os
import re
import sys

import yaml

top = os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..")
spec_path = os.path.join(top, "Documentation/netlink/specs/kdtls.yaml")
uapi_path = os.path.join(top, "include/uapi/linux/kdtls.h")
results = []


def check(ok, what):
    results.append((bool(ok), what))


def uapi_enum(text, name):
    """The enumerators of `enum name` in order, without UNSPEC and __*."""
    m = re.search(r"enum\s+" + name + r"\s*\{(.*?)\};", text, re.S)
    if not m:
        return None
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    names = [e.split("=")[0].strip() for e in body.split(",")]
    return [n for n in names if n and not n.startswith("__")
            and not n.endswith("_UNSPEC")]


def c_name(prefix, name):
    return prefix + name.upper().replace("-", "_")


def no_unspec(names):
    return [n for n in names if not n.endswith("_UNSPEC")]


def main():
    text = open(uapi_path).read()
    try:
        spec = yaml.safe_load(open(spec_path))
        check(True, "the spec parses as YAML")
    except yaml.YAMLError as e:
        check(False, "the spec parses as YAML: %s" % str(e).replace("\n", " "))
        return

    sets = {s["name"]: s for s in spec["attribute-sets"]}
    missing = [f"{s['name']}/{a['name']}" for s in spec["attribute-sets"]
               for a in s["attributes"] if not a.get("doc")]
    check(not missing, "every attribute has a doc line " + " ".join(missing))
    missing = [d["name"] for d in spec["definitions"] if not d.get("doc")]
    missing += [o["name"] for o in spec["operations"]["list"]
                if not o.get("doc")]
    check(not missing, "every definition and operation has a doc " +
          " ".join(missing))

    for set_name, enum, prefix in (("kdtls", "kdtls_a", "KDTLS_A_"),
                                   ("key", "kdtls_a_key", "KDTLS_A_KEY_"),
                                   ("stats", "kdtls_stat", "KDTLS_STAT_")):
        want = uapi_enum(text, enum)
        got = no_unspec([c_name(prefix, a["name"])
                         for a in sets[set_name]["attributes"]])
        check(want == got, f"attribute set {set_name} is enum {enum}, in order"
              + ("" if want == got else f": spec {got} header {want}"))

    defs = {d["name"]: d for d in spec["definitions"]}
    for def_name, enum, prefix in (("cipher", "kdtls_cipher", "KDTLS_CIPHER_"),
                                   ("stat", "kdtls_stat", "KDTLS_STAT_")):
        want = uapi_enum(text, enum)
        got = no_unspec([c_name(prefix, e if isinstance(e, str) else e["name"])
                         for e in defs[def_name]["entries"]])
        check(want == got, f"definition {def_name} is enum {enum}, in order"
              + ("" if want == got else f": spec {got} header {want}"))

    known = {a["name"] for a in sets["kdtls"]["attributes"]}
    bad = []
    for op in spec["operations"]["list"]:
        for kind in ("do", "dump", "event"):
            part = op.get(kind)
            if not isinstance(part, dict):
                continue
            for sub in ("request", "reply"):
                attrs = part.get(sub, {}).get("attributes", [])
                bad += [f"{op['name']}/{a}" for a in attrs if a not in known]
            bad += [f"{op['name']}/{a}" for a in part.get("attributes", [])
                    if a not in known]
    check(not bad, "operations name only known attributes " + " ".join(bad))


main()
print("TAP version 13")
print(f"1..{len(results)}")
for i, (ok, what) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {what.strip()}")
sys.exit(0 if all(ok for ok, _ in results) else 1)
