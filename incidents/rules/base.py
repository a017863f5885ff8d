"""Rule metadata: what every rule declares, manifest checks and runtime (PromQL) alerts alike.

A rule is data plus, for manifest rules, one check function. The fields follow the fixed
documentation template of kube-linter and checkov: what it checks, why it matters, how to fix it
(with a corrected YAML snippet) and references. `stories` names the curated failure stories
that show why it matters; rule modules leave it empty and the registry fills it from the links
file (`incidents.rules.links`). Where no curated story shows it yet, `reports` names the public
incident reports among the references (a postmortem, an issue thread of an outage) that do:
a rule is backed by at least one of the two. The web page and API for a rule are generated
from these fields.

IDs are stable and opaque: `KB001`... for manifest rules, `KBP001`... for runtime rules. An ID
is never reused, even after its rule is removed (see `registry.RETIRED_IDS`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from incidents.rules.engine import Context
    from incidents.rules.objects import K8sObject


class Severity(enum.IntEnum):
    """info < warning < error. The value orders them; `str()` is the lowercase name."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        if isinstance(value, Severity):
            return value
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {value!r} (choose from {choices})") from None


@dataclass(frozen=True, slots=True)
class Hit:
    """What a check function yields: the JSON path of the offending field and a message.

    `patch`, when the fix is mechanical, is a JSON Patch (RFC 6902) for this object, e.g.
    `({"op": "add", "path": "/spec/backoffLimit", "value": 4},)`: `kubectl patch --type json`
    applies it to a live object and `kbcheck --fix-diff` turns it into a diff of the file.
    """

    path: str
    message: str
    patch: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectHit:
    """What an input-wide check yields: a hit on one particular object of the input."""

    obj: K8sObject
    path: str
    message: str
    patch: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Param:
    """A run parameter a rule reads (`--param name=value`), with its default."""

    name: str
    description: str
    default: str | None = None
    validate: Callable[[str], object] | None = field(default=None, compare=False)


RULE_ID = re.compile(r"^KB\d{3}$")
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?=\s+[A-Z`(]|$)")
RUNTIME_RULE_ID = re.compile(r"^KBP\d{3}$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

ObjectCheck = Callable[["K8sObject", "Context"], Iterable[Hit]]
InputCheck = Callable[["Context"], Iterable[ObjectHit]]


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleMeta:
    """The documentation fields shared by both kinds of rule."""

    id: str
    slug: str
    title: str
    severity: Severity
    checks: str  # what it checks, one or two sentences of Markdown
    why: str  # why it matters, Markdown
    fix: str  # how to fix it, Markdown
    fix_example: str  # a corrected YAML snippet
    references: tuple[str, ...] = ()
    stories: tuple[str, ...] = ()
    # public incident reports among `references` that back the rule where no story does yet
    reports: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    rule_type = "manifest"

    @property
    def summary(self) -> str:
        return self.checks

    @property
    def fix_summary(self) -> str:
        """The remedy in one line: the first sentence of `fix`, without Markdown emphasis."""
        text = " ".join(self.fix.split()).replace("*", "")
        match = _FIRST_SENTENCE.match(text)
        sentence = match.group(1) if match else text
        if len(sentence) > 200 and "; " in sentence:  # keep the remedy, leave the how-to
            sentence = sentence.split("; ", 1)[0] + "."
        return sentence


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule(RuleMeta):
    """A manifest rule. Exactly one of `check` (per object) or `check_input` (whole input)."""

    check: ObjectCheck | None = field(default=None, repr=False, compare=False)
    check_input: InputCheck | None = field(default=None, repr=False, compare=False)
    params: tuple[Param, ...] = ()

    @property
    def cross_object(self) -> bool:
        return self.check_input is not None


@dataclass(frozen=True, kw_only=True, slots=True)
class RuntimeRule(RuleMeta):
    """A runtime rule: a Prometheus alert over metrics that manifests cannot show."""

    expr: str
    for_: str = "5m"
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    rule_type = "runtime"

    @property
    def alert_name(self) -> str:
        return "KB" + "".join(part.capitalize() for part in self.slug.split("-"))
