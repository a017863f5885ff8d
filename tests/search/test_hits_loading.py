"""load_hits_stories: a page of stories, with categories and technologies, in one statement."""

from __future__ import annotations

from incidents.models import Category, Story, Technology
from incidents.search.documents import load_hits_stories


def test_it_loads_the_stories_and_their_tags_in_one_query(
    vocabulary, make_story, django_assert_num_queries
):
    extra = Technology.objects.create(slug="etcd", name="etcd", aliases=["etcd3", "etcd 3"])
    tagged = make_story(
        slug="tagged",
        technologies=[vocabulary["oom-killer"], extra, vocabulary["coredns"]],
        categories=[vocabulary["networking"], vocabulary["dns"]],
    )
    bare = make_story(slug="bare")
    with django_assert_num_queries(1):
        loaded = load_hits_stories([bare.pk, tagged.pk], published_only=True)
        techs = list(loaded[tagged.pk].technologies.all())
        cats = list(loaded[tagged.pk].categories.all())
        assert list(loaded[bare.pk].technologies.all()) == []
    # Every column as the ORM reads it, tags in their model order with every field.
    orm = Story.objects.get(pk=tagged.pk)
    for f in Story._meta.concrete_fields:
        assert getattr(loaded[tagged.pk], f.attname) == getattr(orm, f.attname), f.name
    fields = [f.attname for f in Technology._meta.concrete_fields]
    assert sorted([getattr(t, f) for f in fields] for t in techs) == sorted(
        [getattr(t, f) for f in fields] for t in Technology.objects.filter(stories=tagged)
    )
    assert [t.name for t in techs] == ["CoreDNS", "OOM killer", "etcd"]  # by name, as before
    assert set(cats) == set(Category.objects.filter(stories=tagged))
    assert [c.slug for c in cats] == ["dns", "networking"]


def test_it_leaves_out_drafts_unless_asked_and_ids_that_are_gone(make_story):
    published = make_story(slug="published")
    draft = make_story(slug="draft", status="draft")
    ids = [draft.pk, published.pk, 999_999]
    assert set(load_hits_stories(ids, published_only=True)) == {published.pk}
    assert set(load_hits_stories(ids, published_only=False)) == {published.pk, draft.pk}
    assert load_hits_stories([], published_only=True) == {}


def test_filtering_a_loaded_relation_still_queries_that_story_only(vocabulary, make_story):
    one = make_story(slug="one", technologies=[vocabulary["coredns"]])
    make_story(slug="two", technologies=[vocabulary["oom-killer"]])
    loaded = load_hits_stories([one.pk], published_only=True)[one.pk]
    assert list(loaded.technologies.filter(slug__startswith="o")) == []
    assert [t.slug for t in loaded.technologies.order_by("slug")] == ["coredns"]
