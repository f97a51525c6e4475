"""What `validate --json` read from one roadmap, one line per phase, group
and task: the dialect, the summary, the diagnostics, then the tree with ids,
done marks, annotations and optional flags. Titles are left out: the
roadmaps are other people's files, and their words stay in them.
Reads the JSON on stdin."""
import json
import sys

doc = json.load(sys.stdin)
print(f"reading: {doc['dialect']} ({doc['reading']}), valid: {doc['valid']}")
print("summary: " + ", ".join(f"{k} {v}" for k, v in sorted(doc["summary"].items())))
for d in doc["diagnostics"]:
    print(f"diagnostic {d['code']} at {d.get('line')}:{d.get('column')}: {d['message']}")


def done(item):
    return "x" if item["done_in_roadmap"] else " "


for p in doc["phases"]:
    note = f" ({p['annotation']})" if p.get("annotation") else ""
    ctx = " +context" if p["context"] else ""
    print(f"[{done(p)}] phase {p['number']}{note}{ctx}")
    for g in p["groups"]:
        print(f"    group {g['id']}")
        for t in g["tasks"]:
            opt = " (optional)" if t.get("optional") else ""
            mark = t["done_mark"]["kind"] if t.get("done_mark") else "no mark"
            print(f"        [{done(t)}] {t['id']} ({mark}){opt}")
