"""``bridge mappings test``: which recorded messages would translate differently with new tables.

Every file of CORPUS_DIR is translated twice with the same fixed clock and id
sequence, once with the BASELINE tables and once with the NEW ones, and the two
outputs are compared leaf by leaf (``bridge.core.mapping.diff``). A legacy frame
gives Hub payloads (compared as JSON leaves: ``/createCase/qualification/...``);
a Hub message (``*.json``, or XML whose root is an EDXL envelope) gives a legacy
frame (compared line by line, or element by element for XML dialects).
Golden outputs (``*.expected.json``) and dotfiles are skipped.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click

from bridge.cli.io import EXIT_CONFIG, EXIT_UNREADABLE
from bridge.cli.nomenclatures_cmd import NOMENCLATURES_OPTION, load_or_exit

FIXED_NOW = datetime(2024, 5, 18, 18, 30, tzinfo=timezone(timedelta(hours=2)))
MAX_FILE_BYTES = 2 * 1024 * 1024  # a corpus file larger than this is reported, not read
SKIPPED_SUFFIXES = (".expected.json",)


@dataclass
class Outcome:
    """One corpus file: how it differs between the two table sets (empty ``changes`` = same)."""

    file: str
    kind: str  # "frame" or "hub"
    changes: list[Any] = field(default_factory=list)
    old_error: str | None = None
    new_error: str | None = None

    @property
    def differs(self) -> bool:
        return bool(self.changes) or self.old_error != self.new_error

    def lines(self) -> list[str]:
        out = [f"{self.file}: {change}" for change in self.changes]
        if self.old_error != self.new_error:
            out.append(f"{self.file}: translation error: {self.old_error or 'none'} → {self.new_error or 'none'}")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "kind": self.kind, "old_error": self.old_error, "new_error": self.new_error,
                "changes": [{"path": c.path, "old": c.old, "new": c.new} for c in self.changes]}


def is_hub_message(name: str, data: bytes) -> bool:
    """A Hub message (EDXL envelope), as opposed to a legacy frame of the profile."""
    head = data[:4096].lstrip()
    if name.endswith(".json") or head[:1] == b"{":
        return True
    return head[:1] == b"<" and b"edxlDistribution" in head


def corpus_files(directory: Path) -> list[Path]:
    """The files to translate, sorted by relative path (sub-directories included, symlinks not followed)."""
    return sorted(p for p in directory.rglob("*")
                  if p.is_file() and not p.is_symlink() and not p.name.startswith(".")
                  and not p.name.endswith(SKIPPED_SUFFIXES))


def legacy_leaves(data: bytes, profile: Any) -> dict[str, str]:
    """A legacy frame as ``path -> value``: XML element paths, ``KEY=VALUE`` keys, or numbered lines."""
    if profile.adapter == "legacy-xml":
        from bridge.core.xmlsafe import parse_xml

        leaves: dict[str, str] = {}

        def walk(element: Any, path: str) -> None:
            children = [c for c in element if isinstance(c.tag, str)]
            if not children:
                leaves[path] = (element.text or "").strip()
            seen: dict[str, int] = {}
            for child in children:
                tag = child.tag.split("}")[-1]
                seen[tag] = seen.get(tag, 0) + 1
                walk(child, f"{path}/{tag}" + (f"[{seen[tag]}]" if seen[tag] > 1 else ""))

        root = parse_xml(data)
        walk(root, "/" + str(root.tag).split("}")[-1])
        return leaves
    text = data.decode(profile.encoding, errors="replace")
    lines: dict[str, str] = {}
    repeats: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        key, sep, value = line.partition("=")
        if sep and key.strip():
            key = key.strip()
            repeats[key] = repeats.get(key, 0) + 1
            lines[f"{key}" + (f"[{repeats[key]}]" if repeats[key] > 1 else "")] = value
        elif line.strip():
            lines[f"line {number}"] = line
    return lines


class Translator:
    """Translates corpus files with one table set, deterministically (fixed clock, ids restarted per file)."""

    def __init__(self, mappings_dir: Path, profile: str, nomenclature_dir: Path | None, schemas: Path | None):
        from bridge.refdata.profiles import build_context

        self.ctx = build_context(nomenclature_dir=nomenclature_dir, mappings_dir=mappings_dir, profile=profile,
                                 schemas=schemas, now=FIXED_NOW, sender_id="fr.health.samu440")
        self.profile = self.ctx.profile

    def _fresh(self) -> Any:
        counter = itertools.count(1)
        return self.ctx.__class__(**{**self.ctx.__dict__, "new_id": lambda: f"id-{next(counter):04d}"})

    def leaves(self, name: str, data: bytes) -> tuple[str, dict[str, str]]:
        """``(kind, leaves)`` of the translation of one file; raises BridgeError when it cannot translate."""
        from bridge.core.edxl import unwrap
        from bridge.core.mapping.diff import json_leaves
        from bridge.core.pipeline import hub_to_legacy_result, legacy_to_hub
        from bridge.refdata.hub_bodies import decode_hub_body

        if is_hub_message(name, data):
            message = unwrap(decode_hub_body(data))
            result = hub_to_legacy_result(message.payload_name, message.payload, self.profile, self._fresh())
            return "hub", legacy_leaves(result.data, self.profile)
        payloads = legacy_to_hub(data, self.profile, self._fresh())
        return "frame", json_leaves({p.name: json.loads(json.dumps(p.payload, default=str)) for p in payloads})


def compare(corpus: Path, old: Translator, new: Translator) -> list[Outcome]:
    """Translate every corpus file with both table sets; one :class:`Outcome` per file."""
    from bridge.core.errors import BridgeError
    from bridge.core.mapping.diff import diff_leaves

    outcomes = []
    for path in corpus_files(corpus):
        name = path.relative_to(corpus).as_posix()
        if path.stat().st_size > MAX_FILE_BYTES:
            outcomes.append(Outcome(name, "?", old_error="too large", new_error="too large"))
            continue
        data = path.read_bytes()
        results: list[tuple[str, dict[str, str] | None, str | None]] = []
        for translator in (old, new):
            try:
                kind, leaves = translator.leaves(name, data)
                results.append((kind, leaves, None))
            except BridgeError as exc:
                results.append(("hub" if is_hub_message(name, data) else "frame", None, exc.message))
        (kind, old_leaves, old_error), (_, new_leaves, new_error) = results
        changes = diff_leaves(old_leaves, new_leaves) if old_leaves is not None and new_leaves is not None else []
        outcomes.append(Outcome(name, kind, changes, old_error, new_error))
    return outcomes


@click.command(name="test")
@click.argument("corpus", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--profile", required=True, help="Legacy profile the frames are written in (name or .toml path).")
@click.option("--baseline", "baseline", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Directory of the tables in force (the reference).")
@click.option("--mappings", "mappings_dir", required=True,
              type=click.Path(file_okay=False, exists=True, path_type=Path), help="Directory of the edited tables.")
@NOMENCLATURES_OPTION
@click.option("--schemas", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Hub schema bundle, for Hub messages in XML.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout, for machines.")
def test_cmd(corpus: Path, profile: str, baseline: Path, mappings_dir: Path, nomenclatures_dir: Path | None,
             schemas: Path | None, as_json: bool) -> None:
    """Re-translate every message of CORPUS with the BASELINE and the edited tables, and list what differs.

    One line per difference: ``FILE: PATH: OLD → NEW``; exit 1 when any differs, for the CI of a
    table repository. Build a corpus from live traffic with 'bridge messages export'.

    Exit codes: 0 every translation identical; 1 a translation differs; 2 bad usage, the corpus or the
    code lists unreadable; 3 a table set does not load (run 'bridge mappings lint').
    """
    from bridge.core.errors import BridgeError

    load_or_exit(nomenclatures_dir)  # unreadable code lists exit 2 with the reason, before any work
    translators = []
    for label, directory in (("baseline", baseline), ("mappings", mappings_dir)):
        try:
            translators.append(Translator(directory, profile, nomenclatures_dir, schemas))
        except BridgeError as exc:
            click.echo(f"error: --{label} {directory}: {exc.message}", err=True)
            for issue in exc.issues[:20]:
                click.echo(f"  {issue.path}: {issue.message}", err=True)
            raise SystemExit(EXIT_CONFIG) from None
    try:
        outcomes = compare(corpus, *translators)
    except OSError as exc:
        click.echo(f"error: cannot read the corpus: {exc}", err=True)
        raise SystemExit(EXIT_UNREADABLE) from None
    differing = [o for o in outcomes if o.differs]
    if as_json:
        click.echo(json.dumps({"files": len(outcomes), "differing": len(differing),
                               "messages": [o.as_dict() for o in differing]}, ensure_ascii=False, indent=2))
    else:
        for outcome in differing:
            for line in outcome.lines():
                click.echo(line)
        click.echo(f"{len(outcomes)} message(s) translated, {len(differing)} differ", err=True)
    raise SystemExit(1 if differing else 0)
