"""The Simplified Chinese catalogue: every template string is marked for translation, every
marked string is translated, and the committed .mo says what the .po says.

The .mo is committed so a fresh clone serves Chinese without GNU gettext installed; these tests
catch a .po edited without `manage.py compilemessages`, and template text added without
`{% translate %}`.
"""

from __future__ import annotations

import ast
import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.template import Context, engines
from django.template.base import Lexer, TokenType
from django.templatetags.i18n import BlockTranslateNode, TranslateNode

LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
TEMPLATES = Path(settings.BASE_DIR) / "templates"
# The Python packages makemessages reads (docs/translation.md ignores tests, bench, .venv, var).
PYTHON_SOURCES = [Path(settings.BASE_DIR) / "incidents", Path(settings.BASE_DIR) / "kb"]
GETTEXT_FUNCTIONS = {
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}

# Words that stay as they are in every language: names of formats. Text in an element with its
# own `lang` (the language switch's label, example search terms) is deliberately not translated.
KEEP = {"JSON", "CSV", "SARIF", "YAML", "Atom"}
TRANSLATED_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
TRANSLATED_META = {"description", "og:title", "og:description", "og:site_name"}
UNTRANSLATED_ELEMENTS = {"code", "pre", "kbd", "script", "style"}


def po_entries() -> list[dict[str, str]]:
    """The entries of django.po (header excluded) as {msgctxt?, msgid, msgid_plural?, msgstr}."""
    entries = []
    for block in (LOCALE / "django.po").read_text(encoding="utf-8").split("\n\n"):
        entry: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                entry["fuzzy"] = "yes"
            if not line or line.startswith("#"):
                continue
            match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[0\])?) (\".*\")$", line)
            if match:
                key = match.group(1).replace("[0]", "")
                entry[key] = ast.literal_eval(match.group(2))
            else:
                entry[key] += ast.literal_eval(line)
        if entry.get("msgid"):
            entries.append(entry)
    return entries


def test_every_entry_is_translated_and_none_is_fuzzy():
    entries = po_entries()
    assert len(entries) > 200
    untranslated = [e["msgid"] for e in entries if not e.get("msgstr") or e.get("fuzzy")]
    assert untranslated == []


def test_translations_keep_every_placeholder():
    # %(count)d as well as %(name)s: a translation that swaps one for the other fails at runtime.
    placeholder = r"%\(\w+\)[sd]"
    for entry in po_entries():
        wanted = sorted(re.findall(placeholder, entry["msgid"]))
        assert sorted(re.findall(placeholder, entry["msgstr"])) == wanted, entry["msgid"]


def test_plural_entries_have_the_one_chinese_form():
    """Chinese has one plural form: the header says so, and each plural entry fills msgstr[0]
    (a catalogue with nplurals=2 would pick an empty msgstr[1] for every count but one)."""
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    assert '"Plural-Forms: nplurals=1; plural=0;\\n"' in text
    assert "msgstr[1]" not in text
    plurals = [e for e in po_entries() if "msgid_plural" in e]
    assert plurals and all(e["msgstr"] for e in plurals)


def template_messages(source: str) -> set[tuple[str | None, str]]:
    """(context, msgid) of every literal {% translate %} and {% blocktranslate %} in a template,
    as Django looks them up when rendering (trimmed, {{ var }} as %(var)s, plural included)."""
    template = engines["django"].from_string(source)
    empty = Context()
    found: set[tuple[str | None, str]] = set()
    for node in template.template.nodelist.get_nodes_by_type(TranslateNode):
        literal = node.filter_expression.var.literal
        if isinstance(literal, str) and not node.noop:
            context = node.message_context.resolve(empty) if node.message_context else None
            found.add((context, literal))
    for node in template.template.nodelist.get_nodes_by_type(BlockTranslateNode):
        context = node.message_context.resolve(empty) if node.message_context else None
        for tokens in (node.singular, node.plural):
            if tokens:
                found.add((context, node.render_token_list(tokens)[0]))
    return found


def python_messages(source: str) -> set[tuple[str | None, str]]:
    """(context, msgid) of every gettext-family call with literal arguments in Python source."""
    found: set[tuple[str | None, str]] = set()
    for call in ast.walk(ast.parse(source)):
        if not isinstance(call, ast.Call):
            continue
        name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
        if name not in GETTEXT_FUNCTIONS:
            continue
        context_at, *message_at = GETTEXT_FUNCTIONS[name]
        args = [a.value if isinstance(a, ast.Constant) else None for a in call.args]
        context = args[context_at] if context_at is not None and context_at < len(args) else None
        for index in message_at:
            if index is not None and index < len(args) and isinstance(args[index], str):
                found.add((context, args[index]))
    return found


def test_every_marked_string_is_in_the_catalogue_and_translated():
    """A string marked in a template or in Python but never extracted (makemessages not run)
    has no entry at all, so the checks on entries above cannot see it: it shows in English."""
    catalogue: dict[tuple[str | None, str], str] = {}
    for entry in po_entries():
        catalogue[(entry.get("msgctxt"), entry["msgid"])] = entry["msgstr"]
        if "msgid_plural" in entry:
            catalogue[(entry.get("msgctxt"), entry["msgid_plural"])] = entry["msgstr"]
    marked: dict[tuple[str | None, str], str] = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        for key in template_messages(path.read_text(encoding="utf-8")):
            marked.setdefault(key, str(path.relative_to(settings.BASE_DIR)))
    for folder in PYTHON_SOURCES:
        for path in sorted(folder.rglob("*.py")):
            for key in python_messages(path.read_text(encoding="utf-8")):
                marked.setdefault(key, str(path.relative_to(settings.BASE_DIR)))
    assert len(marked) > 200
    missing = {
        f"{where}: {msgid!r}"
        for (ctx, msgid), where in marked.items()
        if msgid and not catalogue.get((ctx, msgid))
    }
    assert sorted(missing) == [], "run makemessages and translate (docs/translation.md)"


def test_the_catalogue_check_finds_marked_strings():
    source = (
        "{% load i18n %}<h1>{% translate 'Page not found' %}</h1>"
        '<p title="{% translate "Copy" context "button" %}">'
        "{% blocktranslate trimmed count counter=n %}\n  {{ counter }} story\n"
        "{% plural %}{{ counter }} stories{% endblocktranslate %}</p>"
        "{% translate name %}{% translate 'Later' noop %}"
    )
    assert template_messages(source) == {
        (None, "Page not found"),
        ("button", "Copy"),
        (None, "%(counter)s story"),
        (None, "%(counter)s stories"),
    }
    python = (
        "message = ngettext('Revoked %(count)d token.', 'Revoked %(count)d tokens.', n)\n"
        "label = _('Filters')\nother = pgettext('menu', 'Home')\nskip = gettext(variable)\n"
    )
    assert python_messages(python) == {
        (None, "Revoked %(count)d token."),
        (None, "Revoked %(count)d tokens."),
        (None, "Filters"),
        ("menu", "Home"),
    }


def test_the_committed_mo_matches_the_po():
    with (LOCALE / "django.mo").open("rb") as fh:
        catalogue = gettext.GNUTranslations(fh)
    for entry in po_entries():
        if "msgctxt" in entry:
            got = catalogue.pgettext(entry["msgctxt"], entry["msgid"])
        elif "msgid_plural" in entry:
            got = catalogue.ngettext(entry["msgid"], entry["msgid_plural"], 1)
        else:
            got = catalogue.gettext(entry["msgid"])
        assert got == entry["msgstr"], f"{entry['msgid']!r}: run manage.py compilemessages"


class _VisibleText(HTMLParser):
    """Text nodes and translatable attribute values, outside code-like elements and elements
    that declare their own language."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0
        self._skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in UNTRANSLATED_ELEMENTS or "lang" in attributes:
            self._skip += 1
            self._skipping.append(tag)
            return
        for name, value in attrs:
            if name in TRANSLATED_ATTRIBUTES and value and tag != "link":
                self.found.append(value)
        if tag == "meta" and (attributes.get("name") or attributes.get("property")) in (
            TRANSLATED_META
        ):
            self.found.append(attributes.get("content") or "")

    def handle_endtag(self, tag):
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.found.append(data)


def untranslated_text(source: str) -> list[str]:
    """English words a template shows outside {% translate %} / {% blocktranslate %}."""
    parts, depth_trans, depth_comment = [], 0, 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0]
            if name in ("blocktranslate", "blocktrans"):
                depth_trans += 1
            elif name in ("endblocktranslate", "endblocktrans"):
                depth_trans -= 1
            elif name == "comment":
                depth_comment += 1
            elif name == "endcomment":
                depth_comment -= 1
        if token.token_type == TokenType.TEXT and not depth_trans and not depth_comment:
            parts.append(token.contents)
        else:
            parts.append("\x00")  # a tag or variable: translated or data, never literal text
    parser = _VisibleText()
    parser.feed("".join(parts))
    words = []
    for text in parser.found:
        for word in re.findall(r"[A-Za-z][A-Za-z'’-]+", text):
            if word not in KEEP:
                words.append(word)
    return words


def test_every_template_string_is_marked_for_translation():
    leftovers = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        words = untranslated_text(path.read_text(encoding="utf-8"))
        if words:
            leftovers[str(path.relative_to(TEMPLATES))] = words
    assert leftovers == {}


def test_the_marking_check_finds_unmarked_text():
    assert untranslated_text('<p title="Plain title">Hello <code>kubectl</code></p>') == [
        "Plain",
        "title",
        "Hello",
    ]
    assert untranslated_text('{% load i18n %}<p>{% translate "Hello" %}</p>') == []
    assert untranslated_text('<a lang="en" href="?q=dns">dns timeouts</a>') == []
