#!/usr/bin/env python3
"""Checks the Grafana dashboards of monitoring/grafana (standard library only).

  check_dashboards.py validate GRAFANA_DIR
      Every dashboards/*.json parses, has a uid, a schemaVersion and unique
      integer panel ids; every panel and every target names the datasource uid
      that provisioning/datasources/*.yml provisions; provisioning/dashboards/
      names a file provider.

  check_dashboards.py evaluate --prometheus URL GRAFANA_DIR [--var NAME=VALUE ...]
      Evaluates, through Prometheus' HTTP API, every template variable's query
      and every panel's expressions, and each metric selector inside them, with
      the variables at Grafana's "All" value (`.*`) unless --var sets one; fails
      naming the dashboard, the panel and the expression of each that returns
      no data.

render_dashboard.py imports the walking and substitution from here.
"""
import argparse
import glob
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

# The datasource every panel and target names (provisioning/datasources/opea.yml).
DATASOURCE_UID = "opea-prometheus"

# Grafana's interval variables, replaced by fixed ranges outside Grafana.
DEFAULT_INTERVALS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}


def load_dashboards(grafana_dir):
    """[(file name, dashboard dict)], sorted by file name; raises on bad JSON."""
    out = []
    for path in sorted(glob.glob(os.path.join(grafana_dir, "dashboards", "*.json"))):
        with open(path, encoding="utf-8") as f:
            try:
                out.append((os.path.basename(path), json.load(f)))
            except ValueError as e:
                raise ValueError(f"{os.path.basename(path)}: not JSON: {e}") from None
    return out


def panels(dashboard):
    """Every panel, rows' nested panels included, in order (rows themselves too)."""
    for p in dashboard.get("panels", []):
        yield p
        for q in p.get("panels", []) if p.get("type") == "row" else []:
            yield q


def variables(dashboard):
    return dashboard.get("templating", {}).get("list", [])


def variable_query(var):
    """The PromQL text of a query variable (string or the query editor's object)."""
    q = var.get("query", "")
    return q.get("query", "") if isinstance(q, dict) else q


_VAR_RE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def substitute(expr, values, intervals=None):
    """Replaces Grafana's $var, ${var}, ${var:fmt} and [[var]] in `expr`:
    dashboard variables from `values`, $__rate_interval & co. from
    `intervals`. Raises KeyError naming an unknown variable."""
    iv = dict(DEFAULT_INTERVALS, **(intervals or {}))

    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in values:
            return values[name]
        if name in iv:
            return iv[name]
        raise KeyError(name)

    return _VAR_RE.sub(repl, expr)


# A metric selector with matchers: name{...}. The dashboards write every
# selector with braces (each has at least a node matcher).
_SELECTOR_RE = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^{}]*)\}")
_LABEL_VALUES_RE = re.compile(r"^\s*label_values\(\s*(.*?)\s*,\s*(\w+)\s*\)\s*$", re.S)


def selectors(expr):
    """The metric selectors `name{matchers}` of a PromQL expression."""
    return [m.group(0) for m in _SELECTOR_RE.finditer(expr)]


def label_values_query(text):
    """label_values(selector, label) -> the PromQL `group by (label) (selector)`."""
    m = _LABEL_VALUES_RE.match(text)
    if not m:
        raise ValueError(f"not a label_values(selector, label) query: {text!r}")
    return m.group(2), f"group by ({m.group(2)}) ({m.group(1)})"


def prometheus_get(base, path, params, timeout=10):
    url = base.rstrip("/") + path + "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=timeout) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"{path}: {body.get('error', body)}")
    return body["data"]


def instant(base, expr):
    """Result vector (list) of an instant query; raises on a PromQL error."""
    try:
        return prometheus_get(base, "/api/v1/query", {"query": expr})["result"]
    except urllib.error.HTTPError as e:  # 400/422: a bad expression
        detail = e.read().decode("utf-8", "replace")
        try:
            detail = json.loads(detail).get("error", detail)
        except ValueError:
            pass
        raise RuntimeError(detail) from None


def default_values(dashboard, overrides):
    """Each variable's value: an override, else its "All" value (allValue or .*)."""
    values = {}
    for v in variables(dashboard):
        values[v["name"]] = overrides.get(v["name"], v.get("allValue") or ".*")
    return values


# -- validate ----------------------------------------------------------------

def _provisioned_uids(grafana_dir):
    """uids of the datasources provisioned (a plain reading of `uid:` keys:
    the standard library has no YAML parser)."""
    uids = []
    for path in sorted(glob.glob(os.path.join(grafana_dir, "provisioning", "datasources", "*.y*ml"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"^\s*(?:-\s+)?uid:\s*['\"]?([\w.-]+)['\"]?\s*(#.*)?$", line)
                if m:
                    uids.append((os.path.basename(path), m.group(1)))
    return uids


def validate(grafana_dir):
    errors = []
    uids = _provisioned_uids(grafana_dir)
    if not uids:
        errors.append("provisioning/datasources: no datasource with a uid")
    for f, uid in uids:
        if uid != DATASOURCE_UID:
            errors.append(f"provisioning/datasources/{f}: uid {uid!r}, the dashboards use {DATASOURCE_UID!r}")
    providers = glob.glob(os.path.join(grafana_dir, "provisioning", "dashboards", "*.y*ml"))
    if not providers or not any(re.search(r"^\s*type:\s*file\s*$", open(p).read(), re.M) for p in providers):
        errors.append("provisioning/dashboards: no file provider")
    try:
        boards = load_dashboards(grafana_dir)
    except ValueError as e:
        return errors + [f"dashboards/{e}"]
    if not boards:
        errors.append("dashboards: no *.json")
    seen_uids = {}
    for f, d in boards:
        def err(msg):
            errors.append(f"{f}: {msg}")
        if not isinstance(d.get("schemaVersion"), int):
            err("no integer schemaVersion")
        uid = d.get("uid")
        if not uid:
            err("no uid")
        elif uid in seen_uids:
            err(f"uid {uid!r} also in {seen_uids[uid]}")
        else:
            seen_uids[uid] = f
        if not d.get("title"):
            err("no title")
        ids = {}
        for p in panels(d):
            title = p.get("title", "?")
            pid = p.get("id")
            if not isinstance(pid, int) or isinstance(pid, bool):
                err(f"panel {title!r}: id {pid!r} is not an integer")
            elif pid in ids:
                err(f"panel {title!r}: id {pid} also used by {ids[pid]!r}")
            else:
                ids[pid] = title
            if "gridPos" not in p:
                err(f"panel {title!r}: no gridPos")
            if p.get("type") == "row":
                if p.get("targets"):
                    err(f"row {title!r} has targets")
                continue
            ds = p.get("datasource")
            if not isinstance(ds, dict) or ds.get("uid") != DATASOURCE_UID or ds.get("type") != "prometheus":
                err(f"panel {title!r}: datasource {ds!r}, expected uid {DATASOURCE_UID!r}")
            targets = p.get("targets") or []
            if not targets:
                err(f"panel {title!r}: no targets")
            for t in targets:
                tds = t.get("datasource")
                if not isinstance(tds, dict) or tds.get("uid") != DATASOURCE_UID:
                    err(f"panel {title!r} target {t.get('refId')}: datasource {tds!r}, "
                        f"expected uid {DATASOURCE_UID!r}")
                if not t.get("expr"):
                    err(f"panel {title!r} target {t.get('refId')}: no expr")
        names = set()
        for v in variables(d):
            if v.get("name") in names:
                err(f"variable {v.get('name')!r} defined twice")
            names.add(v.get("name"))
            if v.get("type") == "query":
                vds = v.get("datasource")
                if not isinstance(vds, dict) or vds.get("uid") != DATASOURCE_UID:
                    err(f"variable {v.get('name')!r}: datasource {vds!r}, expected uid {DATASOURCE_UID!r}")
        # Every variable a panel uses is defined (or one of Grafana's intervals).
        for p in panels(d):
            for t in p.get("targets") or []:
                try:
                    substitute(t.get("expr", ""), {n: "" for n in names})
                except KeyError as e:
                    err(f"panel {p.get('title')!r}: undefined variable ${e.args[0]}")
    return errors


# -- evaluate ----------------------------------------------------------------

def evaluate(base, grafana_dir, overrides, intervals, verbose):
    failures, checked = [], 0
    for f, d in load_dashboards(grafana_dir):
        values = default_values(d, overrides)
        title = d.get("title", f)
        for v in variables(d):
            if v.get("type") != "query":
                continue
            checked += 1
            text = substitute(variable_query(v), values, intervals)
            try:
                label, q = label_values_query(text)
                res = instant(base, q)
                found = sorted({r["metric"].get(label, "") for r in res} - {""})
            except (RuntimeError, ValueError) as e:
                failures.append(f"{f} ({title}): variable ${v['name']}: {text}: {e}")
                continue
            if not found:
                failures.append(f"{f} ({title}): variable ${v['name']}: no values: {text}")
            elif verbose:
                print(f"ok   {f}: ${v['name']} = {', '.join(found)}")
        for p in panels(d):
            for t in p.get("targets") or []:
                checked += 1
                expr = substitute(t["expr"], values, intervals)
                where = f"{f} ({title}): panel {p.get('title')!r} [{t.get('refId')}]"
                one_line = " ".join(expr.split())
                try:
                    res = instant(base, expr)
                except RuntimeError as e:
                    failures.append(f"{where}: {one_line}: error: {e}")
                    continue
                empty = [s for s in selectors(expr) if not instant(base, s)]
                if not res or empty:
                    why = "no data" + (f"; no series for {', '.join(empty)}" if empty else "")
                    failures.append(f"{where}: {why}: {one_line}")
                elif verbose:
                    print(f"ok   {where}: {len(res)} series")
    return checked, failures


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate")
    v.add_argument("grafana_dir")
    e = sub.add_parser("evaluate")
    e.add_argument("grafana_dir")
    e.add_argument("--prometheus", required=True, help="e.g. http://127.0.0.1:9090")
    e.add_argument("--var", action="append", default=[], metavar="NAME=VALUE")
    e.add_argument("--rate-interval", default=DEFAULT_INTERVALS["__rate_interval"])
    e.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    if a.cmd == "validate":
        errors = validate(a.grafana_dir)
        for m in errors:
            print(f"FAIL {m}")
        print(f"validate: {len(errors)} problem(s)")
        return 1 if errors else 0
    overrides = dict(kv.split("=", 1) for kv in a.var)
    checked, failures = evaluate(a.prometheus, a.grafana_dir, overrides,
                                 {"__rate_interval": a.rate_interval}, a.verbose)
    for m in failures:
        print(f"FAIL {m}")
    print(f"evaluate: {checked} queries, {len(failures)} without data")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
