"""Safe loading: forgiving with real-world input, refusing hostile input fast."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from incidents.rules.parsing import InputRefused, Limits, ParseError, load_documents

BILLION_LAUGHS = """
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def codes(result):
    return [e.code for e in result.errors]


def test_it_reads_multi_document_yaml_like_pyyaml_does():
    text = "a: 1\nb: [x, 2.5, true, null, '3']\n---\nkind: Service\n---\n"
    result = load_documents(text)
    assert [d.data for d in result.documents] == list(yaml.safe_load_all(text))
    assert [d.index for d in result.documents] == [0, 1, 2]
    assert [d.line for d in result.documents][:2] == [1, 4]  # the first line of content


def test_timestamps_and_custom_tags_stay_strings():
    result = load_documents("when: 2020-02-16\nref: !Ref Bucket\nport: !!str 80\n")
    assert result.documents[0].data == {"when": "2020-02-16", "ref": "Bucket", "port": "80"}


def test_it_refuses_aliases_quickly_and_keeps_the_other_documents():
    start = time.perf_counter()
    result = load_documents("kind: A\n---\n" + BILLION_LAUGHS + "---\nkind: B\n")
    assert time.perf_counter() - start < 0.5
    assert codes(result) == ["yaml-alias"]
    assert result.errors[0].document == 1 and result.errors[0].line == 5
    assert [d.data["kind"] for d in result.documents] == ["A", "B"]
    assert [d.index for d in result.documents] == [0, 2]


def test_merge_keys_are_aliases_too():
    result = load_documents("base: &b {x: 1}\nother:\n  <<: *b\n")
    assert codes(result) == ["yaml-alias"]


def test_it_refuses_nesting_deeper_than_the_limit():
    deep = "[" * 65 + "]" * 65
    assert codes(load_documents(deep)) == ["too-deep"]
    assert codes(load_documents("[" * 64 + "]" * 64)) == []
    block = "".join("  " * i + f"k{i}:\n" for i in range(70)) + "  " * 70 + "leaf"
    assert codes(load_documents(block)) == ["too-deep"]


def test_very_deep_nesting_fails_fast_without_recursion():
    for text in ("[" * 200_000, "- " * 200_000 + "x", '{"a":' * 100_000 + "1" + "}" * 100_000):
        start = time.perf_counter()
        result = load_documents(text)
        assert result.errors and time.perf_counter() - start < 2


def test_it_refuses_too_many_documents_and_nodes():
    result = load_documents("---\na: 1\n" * 20, Limits(max_documents=5))
    assert codes(result) == ["too-many-documents"] and len(result.documents) == 5
    result = load_documents("[" + ", ".join(["1"] * 500) + "]", Limits(max_nodes=100))
    assert codes(result) == ["too-many-nodes"] and result.documents == []


def test_it_refuses_oversize_input_before_parsing():
    with pytest.raises(InputRefused) as info:
        load_documents("a: b\n" * 10, Limits(max_bytes=20))
    assert info.value.code == "too-large" and isinstance(info.value, ParseError)
    with pytest.raises(InputRefused):
        load_documents(b"x" * (5 * 1024 * 1024 + 1))


def test_it_refuses_binary_input():
    with pytest.raises(InputRefused, match="UTF-8"):
        load_documents(b"kind: \xff\xfe\n")
    with pytest.raises(InputRefused, match="NUL"):
        load_documents("kind: a\x00b\n")


def test_a_malformed_document_is_reported_with_index_and_line_and_the_rest_are_read():
    text = "kind: A\n---\nkind: B\n  bad: [\n---\nkind: C\n"
    result = load_documents(text)
    assert codes(result) == ["yaml-syntax"]
    error = result.errors[0]
    assert error.document == 1 and error.line == 4
    assert [d.data["kind"] for d in result.documents] == ["A", "C"]
    assert [d.index for d in result.documents] == [0, 2]


def test_duplicate_keys_are_reported_and_the_last_value_wins():
    result = load_documents("a: 1\nb: 2\na: 3\n")
    assert codes(result) == ["duplicate-key"]
    assert result.errors[0].line == 3
    assert result.documents[0].data == {"a": 3, "b": 2}


def test_complex_keys_abandon_only_their_document():
    result = load_documents("? [a, b]\n: 1\n---\nkind: X\n")
    assert codes(result) == ["complex-key"]
    assert [d.data for d in result.documents] == [{"kind": "X"}]


def test_json_is_parsed_with_json_including_duplicate_keys_and_lines():
    data = {"apiVersion": "v1", "kind": "List", "items": [{"kind": "Node", "spec": {}}]}
    text = json.dumps(data, indent=2)
    result = load_documents(text)
    assert result.documents[0].data == data
    assert result.documents[0].line_of("items[0].spec") == 7
    assert codes(load_documents('{"a": 1, "a": 2}')) == ["duplicate-key"]
    assert codes(load_documents("[" * 70 + "]" * 70)) == ["too-deep"]


def test_json_duplicate_keys_name_their_lines():
    text = (
        '{"kind": "List", "apiVersion": "v1", "items": [\n'
        '  {"kind": "Pod", "metadata": {"name": "x", "labels": {"a": "1",\n'
        '   "a": "1"}}},\n'
        '  {"kind": "Pod", "metadata": {"name": "y",\n'
        '   "name": "z"}}]}\n'
    )
    result = load_documents(text)
    assert [(e.code, e.line) for e in result.errors] == [("duplicate-key", 5)]
    assert [(w.code, w.line) for w in result.warnings] == [("duplicate-key-same", 3)]


def test_invalid_json_falls_back_to_yaml_and_reports_a_line():
    result = load_documents('{"kind": "Service",\n "spec": [}\n')
    assert codes(result) == ["yaml-syntax"] and result.errors[0].line == 2


def test_helm_source_comments_are_kept_and_bom_is_ignored():
    text = (
        "\ufeff---\n# Source: web/templates/svc.yaml\nkind: Service\n"
        "---\n# Source: web/templates/dep.yaml\nkind: Deployment\n"
    )
    result = load_documents(text)
    assert [d.source for d in result.documents] == [
        "web/templates/svc.yaml",
        "web/templates/dep.yaml",
    ]


def test_line_of_points_at_the_deepest_existing_field():
    text = (
        "kind: Deployment\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: a\n        image: x\n"
    )
    document = load_documents(text).documents[0]
    assert document.line_of("spec.template.spec.containers[0].image") == 7
    assert document.line_of("spec.template.spec.containers[0].resources.limits") == 6
    assert document.line_of("") == 1


def test_bytes_and_str_give_the_same_result():
    text = "kind: Pod\nmetadata: {name: é}\n"
    assert load_documents(text.encode()).documents[0].data == load_documents(text).documents[0].data


BIG = "9" * 5000


@pytest.mark.parametrize(
    "text",
    [
        f"replicas: {BIG}",  # over Python's int/str conversion limit
        f"replicas: 0x{'f' * 5000}",  # converts, but could never be printed
        "replicas: " + "9_" * 3000 + "9",
        f"replicas: !!int {BIG}",
        f'{{"replicas": {BIG}}}',
        f"[{BIG}]",
    ],
    ids=["yaml", "yaml-hex", "yaml-underscores", "yaml-tagged", "json", "json-list"],
)
def test_integers_too_long_for_kubernetes_are_a_document_error(text):
    result = load_documents(text)
    assert result.documents == []
    assert codes(result) == ["bad-scalar"]
    assert "5000" in result.errors[0].message or "characters" in result.errors[0].message


def test_long_sexagesimal_numbers_are_refused_without_converting_them():
    text = "replicas: " + ":".join(["1"] + ["0"] * 700_000)  # 1.4 MB, YAML 1.1 base 60
    started = time.process_time()
    result = load_documents(text)
    assert time.process_time() - started < 1.0
    assert codes(result) == ["bad-scalar"]
    # Short ones still read as YAML 1.1 says (PyYAML does the same).
    assert load_documents("a: 1:30").documents[0].data == {"a": 90}


@pytest.mark.parametrize("text", ['{"a": "\\ud800"}', '{"\\udfff": 1}', '["ok", ["\\udc00x"]]'])
def test_json_lone_surrogates_are_a_document_error(text):
    result = load_documents(text)
    assert result.documents == []
    assert codes(result) == ["bad-unicode"]


def test_json_surrogate_pairs_are_read():
    assert load_documents('{"a": "\\ud83d\\ude00"}').documents[0].data == {"a": "\U0001f600"}
