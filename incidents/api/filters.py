"""Query parameters of the list endpoints: whitelisted, typed, bounded.

An unknown parameter is an error (400 `unknown_parameter`), not silently ignored: a typo such as
`?categroy=dns` would otherwise return every story and look like a working filter.
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework import serializers

from incidents.api.errors import ApiError, first_leaf, flatten_errors
from incidents.search import MAX_PAGE
from incidents.search import fields as search_fields

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 10
MAX_QUERY = 500
ORDERINGS = tuple(search_fields.ORDERINGS)  # the search orders them (incidents.search.fields)


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise serializers.ValidationError("Null characters are not allowed.")


class Slugs(serializers.ListField):
    """A repeatable parameter (`?category=dns&category=networking`), also comma-separated."""

    def __init__(self, max_length: int = 20, **kwargs: Any) -> None:
        super().__init__(
            child=serializers.RegexField(r"^[-a-zA-Z0-9_]+$", max_length=100),
            required=False,
            max_length=max_length,
            **kwargs,
        )

    def to_internal_value(self, data):
        if isinstance(data, list):
            data = [part.strip() for item in data for part in str(item).split(",") if part.strip()]
        return super().to_internal_value(data)


def filter_parameter(field: search_fields.SearchField) -> serializers.Field:
    """The API query parameter of a declared search field (incidents.search.fields)."""
    api = field.api
    kwargs = {"help_text": api.help_text} if api.help_text else {}
    if field.kind is search_fields.Kind.BOOLEAN:
        return serializers.BooleanField(required=False, allow_null=True, default=None, **kwargs)
    if field.kind is search_fields.Kind.INTEGER:
        child = serializers.IntegerField(min_value=api.minimum, max_value=api.maximum)
    elif field.choices is not None:
        child = serializers.ChoiceField(choices=field.choices.values)
    else:
        return Slugs(max_length=api.max_values, **kwargs)
    return serializers.ListField(child=child, required=False, max_length=api.max_values, **kwargs)


def search_filters(params: dict) -> dict[str, list[str]]:
    """Validated query parameters -> the `filters` argument of search.search()."""
    out: dict[str, list[str]] = {}
    for field in search_fields.api_fields():
        value = params.get(field.name)
        if field.kind is search_fields.Kind.BOOLEAN:
            if value is not None:
                out[field.name] = ["true" if value else "false"]
        elif value:
            out[field.name] = [str(v) for v in value]
    return out


class StoryQuerySerializer(serializers.Serializer):
    """`q`, then one parameter per declared search field (get_fields), then the rest."""

    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_QUERY,
        validators=[_no_nul],
        help_text="Words to search for, in plain language. Empty lists every story.",
    )
    ordering = serializers.ChoiceField(
        choices=ORDERINGS,
        required=False,
        help_text="Default: relevance when searching, newest first otherwise. Ties are broken "
        "by title (for year), then by story id, so pages never overlap.",
    )
    page = serializers.IntegerField(
        min_value=1,
        max_value=MAX_PAGE,
        default=1,
        help_text=f"At most {MAX_PAGE:,}: the search ranks that deep and no deeper. Narrow the "
        "search (words, filters) to reach stories beyond; `num_pages` never exceeds it.",
    )
    per_page = serializers.IntegerField(
        min_value=1, max_value=MAX_PER_PAGE, default=DEFAULT_PER_PAGE
    )
    exact = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: search the query as typed, never a correction of it "
        "(see `corrected` in the response).",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        declared = super().get_fields()
        fields = {"q": declared.pop("q")}
        fields.update((f.name, filter_parameter(f)) for f in search_fields.api_fields())
        fields.update(declared)
        return fields


class RuleQuerySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["manifest", "runtime"], required=False)
    severity = serializers.ChoiceField(choices=["info", "warning", "error"], required=False)
    kind = serializers.RegexField(
        r"^[A-Za-z0-9]+$", max_length=60, required=False, help_text="A Kubernetes kind."
    )


class CheckQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["json", "sarif"], default="json")
    fail_on = serializers.ChoiceField(
        choices=["info", "warning", "error"],
        default="warning",
        help_text="Severity at which the KB-Check-Exit-Code header becomes 1.",
    )
    skip = Slugs(help_text="Rule IDs or slugs not to run (repeat or comma-separate).")


_VALIDATORS: dict[tuple[type, tuple[str, ...]], serializers.Serializer] = {}


def _validator(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """One unbound serializer per class and search field declaration, reused by every request.

    Building a serializer's fields deep-copies every declared field (a tenth of an API search's
    time, measured by bench/api_bench.py); validating data changes nothing on the serializer or
    its fields (`run_validation` returns the values, unlike `is_valid`, which stores them), so
    the fields are built once per process."""
    key = (serializer_class, tuple(f.name for f in search_fields.api_fields()))
    validator = _VALIDATORS.get(key)
    if validator is None:
        validator = serializer_class()
        validator.fields  # noqa: B018  (built now, not by two requests at once)
        _VALIDATORS[key] = validator
    return validator


def _parameters(serializer_class: type[serializers.Serializer]) -> dict[str, bool]:
    """name -> whether it may repeat."""
    fields = _validator(serializer_class).fields
    return {n: isinstance(f, serializers.ListField) for n, f in fields.items()}


def parse_query(serializer_class: type[serializers.Serializer], query: QueryDict) -> dict:
    """Validate query parameters: unknown names and bad values are 400s in the API format."""
    fields = _parameters(serializer_class)
    unknown = sorted(set(query.keys()) - set(fields))
    if unknown:
        raise ApiError(
            f"Unknown query parameter(s): {', '.join(unknown)[:200]}.",
            code="unknown_parameter",
            details={"unknown": unknown[:20], "allowed": sorted(fields)},
        )
    data: dict[str, Any] = {}
    for name, repeats in fields.items():
        if name not in query:
            continue
        if repeats:
            data[name] = query.getlist(name)
        else:
            values = query.getlist(name)
            if len(values) > 1:
                raise ApiError(
                    f"Query parameter {name!r} may be given only once.",
                    code="invalid_parameter",
                    details={name: ["Given more than once."]},
                )
            data[name] = values[0]
    try:
        return _validator(serializer_class).run_validation(data)
    except serializers.ValidationError as exc:
        details = flatten_errors(exc.detail)
    name = next(iter(details))
    code = "invalid_pagination" if name in {"page", "per_page"} else "invalid_parameter"
    raise ApiError(f"{name}: {first_leaf(details[name])}", code=code, details=details)
