"""`manage.py sync_rules`: the registry mirrored into Rule rows, idempotently."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from incidents.models import Rule, StoryRule
from incidents.rules.registry import REGISTRY


def sync() -> str:
    out = io.StringIO()
    call_command("sync_rules", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_mirrors_every_rule_with_its_kind_and_severity():
    out = sync()
    assert f"{len(REGISTRY)} created" in out
    rows = {r.rule_id: r for r in Rule.objects.all()}
    assert set(rows) == {r.id for r in REGISTRY.all()}
    assert rows["KB001"].slug == "cpu-limits-throttle"
    assert rows["KB012"].severity == "error" and rows["KB012"].kind == "manifest"
    assert rows["KBP003"].kind == "runtime"
    assert all(r.active and r.synced_at for r in rows.values())


@pytest.mark.django_db
def test_a_second_run_changes_nothing():
    sync()
    before = list(Rule.objects.values())
    out = sync()
    assert f"0 created, 0 updated, {len(REGISTRY)} unchanged, 0 deactivated" in out
    assert list(Rule.objects.values()) == before


@pytest.mark.django_db
def test_drifted_rows_are_updated_and_removed_rules_deactivated_not_deleted():
    sync()
    Rule.objects.filter(rule_id="KB001").update(title="old title", severity="info")
    gone = Rule.objects.create(
        rule_id="KB900", slug="removed-rule", title="Removed", severity="info"
    )
    out = sync()
    assert "1 updated" in out and "1 deactivated" in out
    assert Rule.objects.get(rule_id="KB001").title == REGISTRY.get("KB001").title
    gone.refresh_from_db()
    assert gone.active is False


@pytest.mark.django_db
def test_load_stories_then_links_the_curated_story_rules():
    sync()
    call_command("load_stories", stdout=io.StringIO(), stderr=io.StringIO())
    linked = set(StoryRule.objects.values_list("rule__rule_id", flat=True))
    assert linked == {r.id for r in REGISTRY.all() if r.stories}


@pytest.mark.django_db
def test_a_slug_taken_by_a_removed_rule_moves_to_the_new_rule_id():
    # KB900 once held the slug KB001 now uses: the old row is retired and renamed, not a crash.
    Rule.objects.create(rule_id="KB900", slug="cpu-limits-throttle", title="Old", severity="info")
    out = sync()
    assert f"{len(REGISTRY)} created" in out and "1 deactivated" in out
    assert Rule.objects.get(rule_id="KB001").slug == "cpu-limits-throttle"
    old = Rule.objects.get(rule_id="KB900")
    assert (old.slug, old.active) == ("retired-kb900", False)


@pytest.mark.django_db
def test_two_rules_that_swapped_slugs_are_both_synced():
    sync()
    first, second = REGISTRY.get("KB001").slug, REGISTRY.get("KB002").slug
    Rule.objects.filter(rule_id="KB001").update(slug="swap-placeholder")
    Rule.objects.filter(rule_id="KB002").update(slug=first)
    Rule.objects.filter(rule_id="KB001").update(slug=second)
    out = sync()
    assert "2 updated" in out
    assert Rule.objects.get(rule_id="KB001").slug == first
    assert Rule.objects.get(rule_id="KB002").slug == second
