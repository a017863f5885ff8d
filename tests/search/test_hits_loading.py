"""load_hits_stories: a page of stories with their tags, read in one statement (read_stories)
and then kept per worker until the data changes (search.hitcache), with the rule links a caller
prefetched on them."""

from __future__ import annotations

from incidents import pagecache, selectors, services
from incidents.models import Category, Story, Technology
from incidents.search import hitcache
from incidents.search.documents import load_hits_stories, read_stories


def test_it_reads_the_stories_and_their_tags_in_one_query(
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
        loaded = read_stories([bare.pk, tagged.pk])
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


def test_a_page_read_once_is_served_from_the_worker_until_a_write(
    make_story, django_assert_max_num_queries
):
    one, two = make_story(slug="one"), make_story(slug="two")
    first = load_hits_stories([one.pk, two.pk], published_only=True)
    selectors.prefetch_rule_links(list(first.values()))  # as the API does, one query
    # At most the data version (one query with the database cache, none with Redis).
    with django_assert_max_num_queries(1) as queries:
        again = load_hits_stories([one.pk, two.pk], published_only=True)
        selectors.prefetch_rule_links(list(again.values()))
        assert selectors.rules_for_story(again[one.pk]) == []
        assert [t.slug for t in again[two.pk].technologies.all()] == []
    assert not [q for q in queries.captured_queries if "incidents_" in q["sql"]]
    assert again[one.pk].title == one.title

    services.story_update(
        story=one, data={"title": "Renamed by a curator"}, expected_version=one.version
    )
    assert load_hits_stories([one.pk], published_only=True)[one.pk].title == "Renamed by a curator"

    services.story_unpublish(story=two)
    assert load_hits_stories([one.pk, two.pk], published_only=True).keys() == {one.pk}
    assert load_hits_stories([two.pk], published_only=False)[two.pk].status == "draft"


def test_a_write_around_the_services_shows_at_the_next_version_or_after_the_ttl(make_story):
    story = make_story(slug="raw")
    load_hits_stories([story.pk], published_only=True)
    Story.objects.filter(pk=story.pk).update(title="Edited in SQL")
    # The documented contract of pagecache: a bump (any write through the services) or the TTL.
    assert load_hits_stories([story.pk], published_only=True)[story.pk].title == story.title
    pagecache.bump()
    assert load_hits_stories([story.pk], published_only=True)[story.pk].title == "Edited in SQL"

    cache = hitcache.StoryCache(ttl=0)
    cache.get_many([story.pk], 1)  # adopts version 1
    cache.put_many([story], 1)
    assert cache.get_many([story.pk], 1) == {}


def test_callers_get_copies_so_what_one_request_attaches_stays_there(make_story):
    story = make_story(slug="copied")
    first = load_hits_stories([story.pk], published_only=True)[story.pk]
    first.platform_label = "label in one request's language"
    first.title = "changed by a caller"
    first._state.fields_cache["related"] = "cached by one request"
    first._state.adding = True
    second = load_hits_stories([story.pk], published_only=True)[story.pk]
    assert not hasattr(second, "platform_label")
    assert second.title == story.title
    assert second is not first and second == first and type(second) is Story
    assert second._state.fields_cache == {} and second._state.adding is False
    assert second._state.db == first._state.db


def test_without_a_readable_data_version_nothing_is_cached(
    make_story, monkeypatch, django_assert_num_queries
):
    story = make_story(slug="uncached")
    monkeypatch.setattr(hitcache, "current_version", lambda: None)
    load_hits_stories([story.pk], published_only=True)
    with django_assert_num_queries(1):  # the stories, read again
        load_hits_stories([story.pk], published_only=True)


def test_the_cache_keeps_the_most_recently_used_stories_up_to_its_size(make_story):
    stories = [make_story(slug=f"s{i}") for i in range(3)]
    cache = hitcache.StoryCache(size=2)
    cache.get_many([], 7)
    cache.put_many(stories[:2], 7)
    cache.get_many([stories[0].pk], 7)  # now the most recently used
    cache.put_many(stories[2:], 7)
    assert set(cache.get_many([s.pk for s in stories], 7)) == {stories[0].pk, stories[2].pk}
    cache.put_many(stories, 6)  # read under an older version: not kept
    assert cache.get_many([stories[1].pk], 7) == {}


def test_an_unreadable_data_version_is_logged_once_not_per_search(monkeypatch, caplog):
    def broken() -> int:
        raise RuntimeError("no cache table")

    monkeypatch.setattr(pagecache, "data_version", broken)
    monkeypatch.setattr(hitcache, "_warned_at", None)
    with caplog.at_level("WARNING", logger="incidents.search.hitcache"):
        assert [hitcache.current_version() for _ in range(3)] == [None, None, None]
    assert len(caplog.records) == 1
