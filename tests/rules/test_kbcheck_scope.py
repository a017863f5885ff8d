"""kbcheck --scope and --namespace: which objects cross-object rules relate."""

from __future__ import annotations

import json

from incidents.rules import cli
from tests.rules.test_realworld_classes import FRONTEND, FRONTEND_SERVICE


def kb003(capsys, *args: str) -> list[str]:
    code = cli.main(["--format", "json", *args])
    data = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    return [f["file"] for f in data["findings"] if f["rule"]["id"] == "KB003"]


def test_scope_dir_is_the_default_and_relates_the_files_of_one_folder(tmp_path, capsys):
    (tmp_path / "web").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "web" / "deployment.yaml").write_text(FRONTEND)
    (tmp_path / "other" / "service.yaml").write_text(FRONTEND_SERVICE)
    assert kb003(capsys, str(tmp_path)) == []
    assert kb003(capsys, "--scope", "all", str(tmp_path)) == [
        str(tmp_path / "web" / "deployment.yaml")
    ]
    (tmp_path / "web" / "service.yaml").write_text(FRONTEND_SERVICE)
    assert len(kb003(capsys, str(tmp_path))) == 1
    assert kb003(capsys, "--scope", "file", str(tmp_path)) == []


def test_namespace_places_objects_that_name_none(tmp_path, capsys):
    service = FRONTEND_SERVICE.replace("name: frontend", "name: frontend\n  namespace: shop")
    (tmp_path / "deployment.yaml").write_text(FRONTEND)
    (tmp_path / "service.yaml").write_text(service)
    assert kb003(capsys, str(tmp_path)) == []
    assert len(kb003(capsys, "-n", "shop", str(tmp_path))) == 1


def test_a_bad_namespace_or_scope_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "d.yaml").write_text(FRONTEND)
    assert cli.main(["--namespace", "Not_A_Namespace", str(tmp_path)]) == 2
    assert "namespace" in capsys.readouterr().err
