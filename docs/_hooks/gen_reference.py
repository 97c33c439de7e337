"""Generate the reference pages at build time (run by the mkdocs-gen-files plugin, see mkdocs.yml).

Nothing in docs/reference/ is written by hand. Every page is built from what the code itself
declares, so a changed option, meter or field changes the docs with it:

- ``reference/cli.md``: every subcommand's ``--help``, from the parser the console script builds;
- ``reference/meters.md``: the ``--meter`` grammar, from :func:`meter_specs` (the one place that
  knows where meters are declared);
- ``reference/result-schema.md``: the shipped JSON Schema of the result file, as tables;
- ``reference/api/``: one page per module of the packages in :data:`API_PACKAGES`, found by
  walking them (mkdocstrings renders each), with a literate-nav ``SUMMARY.md``.

Module paths are found, not listed: the CLI through the ``sitebench`` entry point, the schema
by its file name inside the package, the meters by the module that declares ``BACKENDS``, the
API by walking the package folders. Moving a module needs no edit here.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import inspect
import json
import os
import re
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import mkdocs_gen_files

API_PACKAGES = ("bench", "workloads")
HELP_WIDTH = "100"


# ---------------------------------------------------------------------------------------------
# helpers


def package_dir(name: str) -> Path:
    """The folder of an importable package (without importing it)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name} is not importable: pip install -e '.[docs]'")
    return Path(next(iter(spec.submodule_search_locations)))


def module_name(path: Path, package: str) -> str:
    """``.../bench/power/meter.py`` -> ``bench.power.meter`` (``__init__.py`` -> the package)."""
    parts = path.relative_to(package_dir(package).parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rst_to_md(text: str) -> str:
    """The docstrings' reStructuredText roles as Markdown code: ``:class:`~a.b.C``` -> ```C```."""
    text = re.sub(r":(?:class|mod|func|meth|data|attr|exc|obj):`~?([^`]+)`",
                  lambda m: "`" + (m.group(1).rsplit(".", 1)[-1] if m.group(0).count("~") else m.group(1)) + "`", text)
    return re.sub(r"``([^`]+?)``", r"`\1`", text)


def cell(text: str) -> str:
    """Text fit for one Markdown table cell: one line, ``|`` escaped outside code spans (inside them a
    table keeps it as it is)."""
    parts = re.split(r"(`[^`]*`)", " ".join(text.split()))
    return "".join(p if p.startswith("`") else p.replace("|", "\\|") for p in parts)


# ---------------------------------------------------------------------------------------------
# (a) the command line, from the parser itself


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``sitebench`` console script, found through its entry point."""
    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "sitebench"]
    module = importlib.import_module(script.module)
    return module.build_parser()


def subcommands(parser: argparse.ArgumentParser, prefix: str) -> Iterator[tuple[str, argparse.ArgumentParser, str]]:
    """Every (full name, parser, one-line help) below ``parser``, depth first, in the order ``--help`` lists them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"{prefix} {name}", sub, helps.get(name, "")
                yield from subcommands(sub, f"{prefix} {name}")


def cli_page() -> str:
    os.environ["COLUMNS"] = HELP_WIDTH  # argparse wraps to the terminal: fix it so builds are stable
    parser = build_parser()
    subs = list(subcommands(parser, "sitebench"))
    lines = [
        "# Command line",
        "",
        "Generated at build time from the commands' own `--help` (the parser `sitebench` builds), so",
        "it is always the installed version's. Exit codes: 0 success, 1 a check or run failed",
        "(invalid file, regression, verification failure), 2 a usage error.",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    for name, sub, one_line in subs:
        anchor = name.replace(" ", "-")
        summary = one_line or re.split(r"(?<=[.:])\s", " ".join((sub.description or "").split()), maxsplit=1)[0]
        lines.append(f"| [`{name}`](#{anchor}) | {cell(summary)} |")
    lines += ["", "## sitebench", "", "```text", parser.format_help().rstrip(), "```", ""]
    for name, sub, _ in subs:
        anchor = name.replace(" ", "-")
        lines += [f"## {name} {{ #{anchor} }}", "", "```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# (b) the --meter grammar


def meter_specs() -> list[dict[str, Any]]:
    """Every ``--meter`` back-end as the code declares it, one dict per meter: the ONE place that
    knows where meters are declared.

    The module that defines ``BACKENDS`` is found by its source. Where it is the ``MeterSpec``
    declaration table (it has ``grammar_rows()``), its rows are used as they are; otherwise the
    rows are read from each back-end module's source (``BACKENDS`` maps name -> module): its
    docstring's ``--meter`` form, ``probe()``'s signature, the options its ``split_arg`` call
    accepts, the environment variables it reads, whether it has ``device_arg``. Either way each
    row has ``name``, ``summary``, ``module``, ``form``, ``argument`` (none/optional/required),
    ``options`` (dicts with ``form``, ``help``, ``default``, ``secret``), ``environment``,
    ``per_device``, and ``doc`` (the module docstring, Markdown) is added.
    """
    (declaring,) = [p for p in sorted(package_dir("bench").rglob("*.py"))
                    if re.search(r"^BACKENDS\b", p.read_text(), re.M)]
    table = importlib.import_module(module_name(declaring, "bench"))
    if hasattr(table, "grammar_rows"):
        rows = [dict(r) for r in table.grammar_rows()]
    else:
        rows = [_row_from_source(name, modname) for name, modname in table.BACKENDS.items()]
    for row in rows:
        spec = importlib.util.find_spec(row["module"])
        assert spec is not None and spec.origin, row["module"]
        row["doc"] = rst_to_md(inspect.cleandoc(ast.get_docstring(ast.parse(Path(spec.origin).read_text())) or ""))
    return rows


def _row_from_source(name: str, modname: str) -> dict[str, Any]:
    """A back-end's row read from its module's source (before the ``MeterSpec`` table existed)."""
    spec = importlib.util.find_spec(modname)
    assert spec is not None and spec.origin, modname
    tree = ast.parse(Path(spec.origin).read_text())
    doc = ast.get_docstring(tree) or ""
    consts = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
              if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)}
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    probe = funcs["probe"]
    # required: probe(arg) without a default, or a probe that refuses to open without it ("needs ...")
    needs = any(isinstance(n, ast.Raise) and re.match(r"['\"]needs ", ast.unparse(n.exc).split("(", 1)[-1].lstrip("f"))
                for n in ast.walk(probe))
    argument = "none" if not probe.args.args else "required" if needs or not probe.args.defaults else "optional"
    options: list[dict[str, Any]] = []
    environment: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "split_arg":
            for kw in node.keywords:
                if kw.arg in ("flags", "keys") and isinstance(kw.value, ast.Tuple):
                    options += [{"name": c.value, "form": c.value + ("" if kw.arg == "flags" else "=VALUE"),
                                 "help": "", "default": None, "secret": False}
                                for c in kw.value.elts if isinstance(c, ast.Constant)]
        env = None
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "getenv")
                and "environ" in ast.unparse(node.func) and node.args):
            env = node.args[0]
        elif isinstance(node, ast.Compare) and any("environ" in ast.unparse(c) for c in node.comparators):
            env = node.left
        if env is not None:
            value = env.value if isinstance(env, ast.Constant) else consts.get(getattr(env, "id", ""))
            if isinstance(value, str) and value not in environment:
                environment.append(value)
    forms = ["".join(m.split()) for m in re.findall(r"``--meter ([^`]+)``", doc + (ast.get_docstring(probe) or ""), re.S)]
    form = forms[0] if forms else name if argument == "none" else f"{name}[:ARG]" if argument == "optional" else f"{name}:ARG"
    return {"name": name, "summary": rst_to_md(" ".join(doc.split("\n\n")[0].split())), "module": modname,
            "form": form, "argument": argument, "options": options, "environment": environment,
            "per_device": "device_arg" in funcs}


def meters_page() -> str:
    specs = meter_specs()
    lines = [
        "# Power meters: the `--meter` grammar",
        "",
        "Generated at build time from what the meter back-ends declare. `--meter SPEC` is repeatable",
        "on `sitebench run` and `sitebench serve`; `sitebench list` says which meters work on this",
        "machine and why the others do not. A meter named explicitly that cannot open is one line and",
        "exit 2. A spec is `NAME[:TARGET]` followed by comma-separated options, each `key=value` or,",
        "for a yes/no option, a bare `key`: `redfish:https://bmc/redfish/v1/Chassis/1,insecure`.",
        "",
        "What the figures mean (scopes, accuracy, the quality levels) is in",
        "[Scopes and meters](../concepts/scopes.md).",
        "",
        "| meter | `--meter` form | target | environment | what it measures |",
        "|---|---|---|---|---|",
    ]
    for s in specs:
        target = s["argument"] + ("; by default the run's own device" if s.get("per_device") else "")
        lines.append("| " + " | ".join([
            f"[`{s['name']}`](#{s['name']})", cell(f"`{s['form']}`"), cell(target),
            " ".join(f"`{e}`" for e in s["environment"]) or "-", cell(s["summary"]),
        ]) + " |")
    for s in specs:
        lines += ["", f"## {s['name']}", "", f"`--meter {s['form']}`", ""]
        if s.get("target"):
            t = s["target"]
            lines += [f"**Target** `{t['metavar']}` ({'required' if t['required'] else 'optional'}): {cell(t['help'])}"
                      + (f", e.g. `{s['name']}:{t['example']}`" if t.get("example") else "") + ".", ""]
        if s["options"]:
            lines += ["| option | default | what it sets |", "|---|---|---|"]
            for o in s["options"]:
                default = "" if o.get("default") in (None, "") else f"`{o['default']}`"
                note = cell(o.get("help") or "") + (" (a secret: never printed or recorded)" if o.get("secret") else "")
                form = cell("`" + o["form"] + "`")
                lines.append(f"| {form} | {default} | {note} |")
            lines.append("")
        if s["environment"]:
            lines += [f"**Environment**: {', '.join(f'`{e}`' for e in s['environment'])}", ""]
        lines += [s["doc"]]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# (c) the result file's JSON Schema


def schema_file() -> Path:
    """The newest ``result-N.schema.json`` shipped inside the package."""
    found = sorted(package_dir("bench").rglob("result-*.schema.json"),
                   key=lambda p: int(re.sub(r"\D", "", p.name) or 0))
    if not found:
        raise RuntimeError("no result-N.schema.json inside the bench package")
    return found[-1]


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in prop:
        kinds = [_type(p) for p in prop["anyOf"]]
        return " or ".join(k for k in kinds if k != "null") + (" or null" if "null" in kinds else "")
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    if "enum" in prop:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in prop["enum"])
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if kind == "object" and "additionalProperties" in prop and isinstance(prop["additionalProperties"], dict):
        return f"map of string to {_type(prop['additionalProperties'])}"
    if isinstance(kind, list):
        return " or ".join(kind)
    return kind


def _bounds(prop: dict[str, Any]) -> str:
    out = []
    for p in [prop, *prop.get("anyOf", [])]:
        for key, word in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"),
                          ("minLength", "length >="), ("maxLength", "length <="), ("minItems", "items >="),
                          ("maxItems", "items <="), ("pattern", "matches")):
            if key in p:
                value = f"`{p[key]}`" if key == "pattern" else f"{p[key]:g}" if isinstance(p[key], float) else p[key]
                out.append(f"{word} {value}")
        if p.get("type") == "array" and isinstance(p.get("items"), dict):
            inner = _bounds({k: v for k, v in p["items"].items() if k != "pattern"})
            if inner:
                out.append(f"each {inner}")
    return ", ".join(out)


def _object_table(obj: dict[str, Any]) -> list[str]:
    required = set(obj.get("required", []))
    lines = ["| field | type | required | bounds | default |", "|---|---|---|---|---|"]
    for key, prop in obj.get("properties", {}).items():
        default = f"`{cell(json.dumps(prop['default']))}`" if "default" in prop else ""
        lines.append(f"| `{key}` | {_type(prop)} | {'yes' if key in required else ''} | {cell(_bounds(prop))} | {default} |")
    closed = obj.get("additionalProperties") is False
    return lines + ["", "Closed: no other keys." if closed else "Other keys are allowed."]


def schema_page(schema: dict[str, Any], file_name: str) -> str:
    lines = [
        f"# Result file schema: `{schema.get('$id', '')}`",
        "",
        f"Generated at build time from the JSON Schema shipped inside the package ({file_name},",
        f"[download it](schema/{file_name})), itself generated from the typed record that every file",
        "is validated against on load. What the figures mean is in [The result file](../concepts/result-file.md).",
        "",
        rst_to_md(schema.get("description", "")),
        "",
        "## The document",
        "",
        *_object_table(schema),
    ]
    for name, obj in sorted(schema.get("$defs", {}).items()):
        lines += ["", f"## {name}", "", rst_to_md(obj.get("description", "")), ""]
        if obj.get("type") == "object" or "properties" in obj:
            lines += _object_table(obj)
        else:
            lines += [f"Type: {_type(obj)}. {_bounds(obj)}"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# (d) the Python API, by walking the packages


def api_pages() -> Iterator[tuple[str, str, Path]]:
    """(page path under reference/api/, module name, source file) for every module of the packages."""
    for package in API_PACKAGES:
        root = package_dir(package)
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root.parent)
            if any(part.startswith(("_", ".")) and part != "__init__.py" for part in rel.parts) or "__pycache__" in rel.parts:
                continue
            name = module_name(path, package)
            page = "/".join(name.split(".")) + ("/index.md" if path.name == "__init__.py" else ".md")
            yield page, name, path


def main() -> None:
    with mkdocs_gen_files.open("reference/cli.md", "w") as f:
        f.write(cli_page())
    with mkdocs_gen_files.open("reference/meters.md", "w") as f:
        f.write(meters_page())
    path = schema_file()
    schema = json.loads(path.read_text())
    with mkdocs_gen_files.open(f"reference/schema/{path.name}", "w") as f:
        f.write(path.read_text())
    with mkdocs_gen_files.open("reference/result-schema.md", "w") as f:
        f.write(schema_page(schema, path.name))

    nav = mkdocs_gen_files.Nav()
    overview = [
        "# Python API",
        "",
        "Generated at build time: one page per module of the packages "
        + ", ".join(f"`{p}`" for p in API_PACKAGES) + ", found by walking them and rendered from",
        "their docstrings by mkdocstrings. A module that is added or moved appears here by itself.",
        "",
        "| module | what it is |",
        "|---|---|",
    ]
    for page, name, source in api_pages():
        nav[tuple(name.split("."))] = page
        with mkdocs_gen_files.open(f"reference/api/{page}", "w") as f:
            f.write(f"# `{name}`\n\n::: {name}\n")
        doc = ast.get_docstring(ast.parse(source.read_text())) or ""
        overview.append(f"| [`{name}`]({page}) | {cell(rst_to_md(doc.split(chr(10) * 2)[0]))} |")
    with mkdocs_gen_files.open("reference/api/index.md", "w") as f:
        f.write("\n".join(overview) + "\n")
    with mkdocs_gen_files.open("reference/api/SUMMARY.md", "w") as f:
        f.write("* [Overview](index.md)\n")
        f.writelines(nav.build_literate_nav())


if __name__ in ("__main__", "<run_path>"):  # run by mkdocs-gen-files; importing it (the tests) runs nothing
    main()
