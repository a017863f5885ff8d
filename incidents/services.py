"""Writes. Every change goes through here: stories, their links, the vocabulary, the rule rows
and API tokens, whether it comes from the admin, the API, a form, a loader or a command.

Each story update bumps the story's `version` (optimistic locking) inside a transaction that
first locks the row (`story_lock`), and every story write schedules a search-index update for
after the commit. Reads are in `incidents.selectors`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents import pagecache, search
from incidents.models import ApiToken, Category, Rule, Status, Story, StoryRule, Technology

M2M_FIELDS = ("technologies", "categories")


class StaleStoryError(Exception):
    """The story changed since the caller read it (its version moved on)."""

    def __init__(self, story: Story, expected: int) -> None:
        self.story = story
        self.expected = expected
        who = ""
        last = story.history.first() if hasattr(story, "history") else None
        if last is not None and last.history_user is not None:
            who = f" by {last.history_user}"
        super().__init__(
            f"This story was changed{who} since you loaded it (you edited version {expected}, "
            f"it is now at version {story.version}). Reload it and apply your changes again."
        )


def _set_fields(story: Story, data: Mapping[str, Any]) -> dict[str, Any]:
    m2m: dict[str, Any] = {}
    for field, value in data.items():
        if field in M2M_FIELDS:
            m2m[field] = value
        elif field in _NOT_WRITABLE:
            continue
        elif field == "source_url" and isinstance(value, str):
            setattr(story, field, source_url_normalised(value))
        else:
            setattr(story, field, value)
    return m2m


def _apply_m2m(story: Story, m2m: Mapping[str, Any]) -> None:
    for field, values in m2m.items():
        getattr(story, field).set(list(values))


_NOT_WRITABLE = {"id", "pk", "version", "created_at", "updated_at"}


def _save(
    story: Story, m2m: Mapping[str, Any], *, user: Any, update_fields: list[str] | None = None
) -> Story:
    """Validate, save (recorded in the history as `user`'s change) and index after commit.

    With `update_fields`, only those columns are written (plus the version, the update time and
    a first publication time)."""
    if story.status == Status.PUBLISHED and story.published_at is None:
        story.published_at = timezone.now()
        if update_fields is not None:
            update_fields.append("published_at")
    story.full_clean(validate_unique=True)
    if user is not None:
        story._history_user = user
    story.save(update_fields=update_fields)
    _apply_m2m(story, m2m)
    search.index_stories_on_commit([story.pk])
    pagecache.bump()
    return story


@transaction.atomic
def story_create(*, data: Mapping[str, Any], user: Any = None) -> Story:
    story = Story()
    return _save(story, _set_fields(story, data), user=user)


def story_lock(*, story_pk: int, expected_version: int | None) -> Story:
    """Lock the story's row for the rest of the caller's transaction and return it as stored;
    StaleStoryError when someone saved it since `expected_version` (None: any version).

    The one version check: story_update runs it, and so does the admin's change form while
    validating (inside the admin's transaction), so a stale save is a form error, not a 500."""
    current = Story.objects.select_for_update().get(pk=story_pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleStoryError(current, expected_version)
    return current


@transaction.atomic
def story_update(
    *, story: Story, data: Mapping[str, Any], expected_version: int | None, user: Any = None
) -> Story:
    """Apply `data` to `story` unless someone else saved it since `expected_version`.

    The row is locked first (SELECT ... FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions
    already hold the write lock), so two concurrent updates cannot both pass the version check.
    The changes are applied to the row as read *under the lock* and only the fields in `data`
    are written: a write never puts back values the caller read before a concurrent update
    (with `If-Match: *`, four clients patching different fields lost some of them). `story` is
    refreshed to the saved state, which is also returned.
    """
    current = story_lock(story_pk=story.pk, expected_version=expected_version)
    m2m = _set_fields(current, data)
    current.version += 1
    fields = [f for f in data if f not in M2M_FIELDS and f not in _NOT_WRITABLE]
    _save(current, m2m, user=user, update_fields=[*fields, "version", "updated_at"])
    story.refresh_from_db()
    return current


def story_publish(*, story: Story, user: Any = None) -> Story:
    return story_update(
        story=story, data={"status": Status.PUBLISHED}, expected_version=None, user=user
    )


def story_unpublish(*, story: Story, user: Any = None) -> Story:
    return story_update(
        story=story, data={"status": Status.DRAFT}, expected_version=None, user=user
    )


@transaction.atomic
def story_delete(*, story: Story, user: Any = None) -> None:
    pk = story.pk
    if user is not None:
        story._history_user = user
    story.delete()
    search.remove_stories_on_commit([pk])
    pagecache.bump()


@transaction.atomic
def vocabulary_sync(*, categories: Iterable[Mapping], technologies: Iterable[Mapping]) -> dict:
    """Create or update categories and technologies by slug. Never deletes (stories use them)."""
    counts = {"categories": 0, "technologies": 0}
    for item in categories:
        Category.objects.update_or_create(
            slug=item["slug"],
            defaults={
                "name": item["name"],
                "description": item.get("description", ""),
                "name_zh": item.get("name_zh", ""),
                "description_zh": item.get("description_zh", ""),
            },
        )
        counts["categories"] += 1
    for item in technologies:
        Technology.objects.update_or_create(
            slug=item["slug"],
            defaults={
                "name": item["name"],
                "aliases": list(item.get("aliases") or []),
                "description": item.get("description", ""),
            },
        )
        counts["technologies"] += 1
    pagecache.bump()
    return counts


@transaction.atomic
def vocabulary_term_save(*, term: Category | Technology) -> None:
    """A curator's edit of one category or technology (the admin). Its name and aliases are
    indexed with every story that carries it and shown with every cached story, so those
    stories are reindexed after commit and the data version moves on."""
    term.save()
    search.index_stories_on_commit(term.stories.values_list("pk", flat=True))
    # This process's alias and label tables now (other processes': within their 30 s TTL).
    transaction.on_commit(search.clear_caches)
    pagecache.bump()


@transaction.atomic
def vocabulary_term_delete(*, term: Category | Technology) -> None:
    """Delete a category or technology; the stories that carried it are reindexed without it."""
    ids = list(term.stories.values_list("pk", flat=True))
    term.delete()
    search.index_stories_on_commit(ids)
    transaction.on_commit(search.clear_caches)
    pagecache.bump()


@transaction.atomic
def story_rule_links_sync(*, links: Iterable[Mapping[str, str]]) -> dict[str, int]:
    """Mirror the curated story-rule links (incidents/data/story_rules.yaml, their one owner)
    into StoryRule rows.

    Links to unknown stories or rules raise ValidationError: curated data must be consistent.
    Links that are no longer listed are removed; notes are updated in place.
    """
    wanted: dict[tuple[str, str], str] = {}
    for link in links:
        wanted[(link["story"], link["rule"])] = link["note"]
    stories = {s.slug: s for s in Story.objects.filter(slug__in={k[0] for k in wanted})}
    rules = {r.rule_id: r for r in Rule.objects.filter(rule_id__in={k[1] for k in wanted})}
    missing = sorted({k[0] for k in wanted} - stories.keys()) + sorted(
        {k[1] for k in wanted} - rules.keys()
    )
    if missing:
        raise ValidationError(f"story-rule links name unknown stories or rules: {missing}")
    existing = {
        (sr.story.slug, sr.rule.rule_id): sr
        for sr in StoryRule.objects.select_related("story", "rule")
    }
    created = updated = 0
    for key, note in wanted.items():
        link = existing.pop(key, None)
        if link is None:
            StoryRule.objects.create(story=stories[key[0]], rule=rules[key[1]], note=note)
            created += 1
        elif link.note != note:
            link.note = note
            link.save(update_fields=["note"])
            updated += 1
    removed = len(existing)
    touched = {sr.story_id for sr in existing.values()} | {stories[k[0]].pk for k in wanted}
    StoryRule.objects.filter(pk__in=[sr.pk for sr in existing.values()]).delete()
    search.index_stories_on_commit(touched)
    pagecache.bump()
    return {"created": created, "updated": updated, "removed": removed}


# --- Curated files -----------------------------------------------------------------------------


def story_current_file_hash(story: Story) -> str:
    from incidents.storyfiles import story_file_to_text, story_to_file, text_hash

    return text_hash(story_file_to_text(story_to_file(story)))


def _first_published(meta: Mapping[str, Any]) -> datetime.datetime:
    """When a curated story counts as published: the write-up's date, else the incident's (a
    write-up never comes before it), else 1 January of its year.

    A fresh install loads every file at once; stamping them all with the load time would date
    every feed entry alike and order them by nothing a reader can see. The source's date is the
    closest true date we have, and it orders the feed newest story first."""
    day = (
        meta.get("published_date")
        or meta.get("incident_date")
        or datetime.date(int(meta["year"]), 1, 1)
    )
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


@transaction.atomic
def story_load_file(*, story_file: Any, force: bool = False) -> str:
    """Create or update one story from its curated file. Returns what happened:
    "created", "updated", "unchanged", "kept" (a curator edited the record; the file did not
    change) or "conflict" (both changed since the last load: nothing is overwritten).
    """
    from incidents.storyfiles import story_file_to_text, text_hash

    meta, sections = story_file.meta, story_file.sections
    categories = list(Category.objects.filter(slug__in=meta["categories"]))
    technologies = list(Technology.objects.filter(slug__in=meta["technologies"]))
    unknown = sorted(
        set(meta["categories"]) - {c.slug for c in categories}
        | set(meta["technologies"]) - {t.slug for t in technologies}
    )
    if unknown:
        raise ValidationError(f"unknown vocabulary slugs: {', '.join(unknown)}")
    data: dict[str, Any] = {
        "slug": meta["slug"],
        "title": meta["title"],
        "organisation": meta["organisation"],
        "source_url": meta["source_url"],
        "source_kind": meta["source_kind"],
        "year": meta["year"],
        "listing_year": meta.get("listing_year"),
        "published_date": meta.get("published_date"),
        "incident_date": meta.get("incident_date"),
        "platform": meta["platform"],
        "provenance": meta["provenance"],
        "read_parts": meta.get("read_parts") or "",
        "read_from": meta.get("read_from") or "",
        "read_on": meta.get("read_on"),
        "facts": list(meta.get("facts") or []),
        "status": meta["status"],
        "categories": categories,
        "technologies": technologies,
        **sections,
    }
    # Hash the canonical form, so formatting-only differences in a file are not "changes".
    file_hash = text_hash(story_file_to_text(story_file))
    story = (
        Story.objects.filter(source_url=meta["source_url"]).first()
        or Story.objects.filter(slug=meta["slug"]).first()
    )
    if story is None:
        if meta["status"] == Status.PUBLISHED:
            data["published_at"] = _first_published(meta)
        story = story_create(data=data)
        Story.objects.filter(pk=story.pk).update(file_hash=file_hash)
        return "created"
    db_hash = story_current_file_hash(story)
    if db_hash == file_hash:
        if story.file_hash != file_hash:
            Story.objects.filter(pk=story.pk).update(file_hash=file_hash)
        return "unchanged"
    curator_edited = bool(story.file_hash) and db_hash != story.file_hash
    file_changed = story.file_hash != file_hash
    if curator_edited and not force:
        return "conflict" if file_changed else "kept"
    story_update(story=story, data=data, expected_version=None)
    Story.objects.filter(pk=story.pk).update(file_hash=file_hash)
    return "updated"


# --- k8s.af listing import ---------------------------------------------------------------------


def _unique_slug(base: str) -> str:
    from django.utils.text import slugify

    root = slugify(base)[:90].strip("-") or "story"
    slug, n = root, 2
    while Story.objects.filter(slug=slug).exists():
        slug, n = f"{root}-{n}", n + 1
    return slug


def _match_technologies(items: Iterable[str]) -> list[Technology]:
    """Map the listing's free-text 'involved' items to vocabulary technologies by name/alias."""
    wanted = {item.strip().lower() for item in items}
    found = []
    for tech in Technology.objects.all():
        names = {tech.slug.lower(), tech.name.lower(), *(a.lower() for a in tech.aliases)}
        if names & wanted:
            found.append(tech)
    return found


def story_create_from_listing(*, entry: Any) -> Story:
    """A draft from one k8s.af listing entry: facts only, provenance 'listing'."""
    return story_create(
        data={
            "slug": _unique_slug(f"{entry.organisation} {entry.title}"),
            "title": entry.title,
            "organisation": entry.organisation,
            "source_url": entry.url,
            "source_kind": entry.source_kind,
            "year": entry.year,
            "platform": entry.platform,
            "impact": entry.impact,
            "listing_involved": ", ".join(entry.involved),
            "status": Status.DRAFT,
            "provenance": "listing",
            "curation_note": f"Imported from the k8s.af listing ({entry.medium or 'no medium'}).",
            "technologies": _match_technologies(entry.involved),
        }
    )


# --- Reader suggestions ------------------------------------------------------------------------


def source_url_normalised(url: str) -> str:
    """The address as a URI (RFC 3986): characters a URI cannot hold (spaces, quotes, `<>`,
    non-ASCII) percent-encoded. Django's URL validation accepts `https://example.com/?">`,
    which the API then served as a `uri` that is not one."""
    from django.utils.encoding import iri_to_uri

    return iri_to_uri(url.strip())


def _source_url_variants(url: str) -> list[str]:
    """Spellings of the same address: http/https, with/without www. and trailing slash."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(source_url_normalised(url))
    host = (parts.hostname or "").lower()
    bare = host.removeprefix("www.")
    path = parts.path.rstrip("/")
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a port out of range: no other spelling of it exists
        port = ""
    variants = []
    for scheme in ("https", "http"):
        for h in (bare, f"www.{bare}"):
            for p in (path, path + "/"):
                variants.append(urlunsplit((scheme, h + port, p, parts.query, "")))
    return variants


def story_find_by_source_url(url: str) -> Story | None:
    """A story (any status) whose source is this address, however it is spelled."""
    return Story.objects.filter(source_url__in=_source_url_variants(url)).order_by("pk").first()


@transaction.atomic
def story_suggest(
    *, url: str, title: str, what_happened: str, submitted_from: str = ""
) -> tuple[Story, bool]:
    """A reader's suggestion becomes a draft for curators, unless the source is already known.

    Returns (story, created). The reader's words go into the internal curation note, not into
    a published field: a curator reads the source and writes the record.
    """
    existing = story_find_by_source_url(url)
    if existing is not None:
        return existing, False
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "unknown").lower().removeprefix("www.")
    now = timezone.now()
    note = (
        f"Suggested by a reader on {now:%Y-%m-%d %H:%M} UTC"
        f"{f' from {submitted_from}' if submitted_from else ''}. Check organisation, year, "
        "source kind and platform, then write the sections from the source.\n\n"
        f"What happened, as submitted (unreviewed):\n{what_happened.strip()}"
    )
    story = story_create(
        data={
            "slug": _unique_slug(f"{host.split('.')[0]} {title}"),
            "title": title.strip(),
            "organisation": host,
            "source_url": url.strip(),
            "year": now.year,
            "status": Status.DRAFT,
            "provenance": "listing",
            "curation_note": note,
        }
    )
    return story, True


# --- Rules ------------------------------------------------------------------------------------


def _parked_slug(rule_id: str, *, retired: bool) -> str:
    """A slug no registry rule uses: `retired-kb012` for a removed rule, else a placeholder."""
    return f"{'retired' if retired else 'moving'}-{rule_id.lower()}"


@transaction.atomic
def rules_sync(*, registry=None) -> dict[str, int]:
    """Create, update or deactivate Rule rows so they mirror the registry."""
    if registry is None:
        from incidents.rules.registry import REGISTRY as registry
    wanted = {
        rule.id: {
            "slug": rule.slug,
            "title": rule.title[:300],
            "severity": rule.severity.label,
            "kind": rule.rule_type,
            "summary": rule.checks,
            "active": True,
        }
        for rule in registry.all()
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0, "deactivated": 0}
    now = timezone.now()
    existing = {row.rule_id: row for row in Rule.objects.select_for_update()}
    for rule_id, row in existing.items():
        if rule_id not in wanted and row.active:
            row.active = False
            row.save(update_fields=["active"])
            counts["deactivated"] += 1
    # A slug can move to another rule ID (a rule replaced under a new ID, two slugs swapped).
    # Slugs are unique, so first every row holding a slug that another ID wants is parked under
    # a placeholder only it can have; the loop below then gives each row its final slug.
    wanted_slugs = {fields["slug"]: rule_id for rule_id, fields in wanted.items()}
    for rule_id, row in existing.items():
        owner = wanted_slugs.get(row.slug)
        if owner is not None and owner != rule_id:
            row.slug = _parked_slug(rule_id, retired=rule_id not in wanted)
            row.save(update_fields=["slug"])
    for rule_id, fields in wanted.items():
        row = existing.get(rule_id)
        if row is None:
            Rule.objects.create(rule_id=rule_id, synced_at=now, **fields)
            counts["created"] += 1
        elif any(getattr(row, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(row, name, value)
            row.synced_at = now
            row.full_clean()
            row.save()
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    pagecache.bump()
    return counts


# --- API tokens -------------------------------------------------------------------------------


def api_token_create(*, user: Any, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`. Returns the row and the plaintext, which is shown once; only its
    SHA-256 is stored (incidents.api.auth has the format)."""
    from django.db import IntegrityError

    from incidents.api.auth import hash_token, new_token

    name = name.strip()
    if not name:
        raise ValueError("a token needs a name")
    for _ in range(5):
        prefix, plaintext = new_token()
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user, name=name[:100], prefix=prefix, token_hash=hash_token(plaintext)
                )
        except IntegrityError:  # a prefix collision: astronomically rare, try another
            continue
        return token, plaintext
    raise RuntimeError("could not allocate a unique token prefix")


def api_token_rename(*, token: ApiToken, name: str) -> ApiToken:
    name = name.strip()
    if not name:
        raise ValueError("a token needs a name")
    token.name = name[:100]
    token.save(update_fields=["name"])
    return token


def api_token_touch(*, token: ApiToken, at: datetime.datetime) -> ApiToken:
    """Record that the token was used at `at` (one UPDATE of that column, no save())."""
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=at)
    token.last_used_at = at
    return token


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
