"""The domain: failure stories, their vocabulary (technologies, categories) and rule links.

Constraints live in the database (CHECK and UNIQUE), so a row written by any path (admin, API,
loader, raw SQL) obeys them, not only rows that went through a form.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class SourceKind(models.TextChoices):
    BLOG_POST = "blog-post", _("Blog post")
    POSTMORTEM = "postmortem", _("Postmortem")
    INCIDENT_REPORT = "incident-report", _("Incident report")
    TALK = "talk", _("Talk")
    SLIDES = "slides", _("Slides")
    FORUM_POST = "forum-post", _("Forum post")


class Platform(models.TextChoices):
    GKE = "gke", "GKE"
    EKS = "eks", "EKS"
    AKS = "aks", "AKS"
    AWS = "aws", _("AWS (self-managed)")
    GCP = "gcp", _("GCP (self-managed)")
    AZURE = "azure", _("Azure (self-managed)")
    ON_PREMISE = "on-premise", _("On-premise")
    MULTIPLE = "multiple", _("Multiple")
    UNKNOWN = "unknown", _("Unknown")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Provenance(models.TextChoices):
    """How much of the source the record rests on (docs/story-format.md)."""

    FULL = "full", _("Whole write-up read")
    PARTIAL = "partial", _("Part of the write-up read")
    LISTING = "listing", _("From the k8s.af listing only")


# Search ranks a record that rests on more of its source first when relevance is otherwise equal.
PROVENANCE_RANK = {Provenance.FULL: 2, Provenance.PARTIAL: 1, Provenance.LISTING: 0}


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    ERROR = "error", _("Error")


class RuleKind(models.TextChoices):
    MANIFEST = "manifest", _("Manifest check")
    RUNTIME = "runtime", _("Runtime alert (PromQL)")


def _in(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": choices.values})


class Category(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    name_zh = models.CharField("name (Simplified Chinese)", max_length=100, blank=True)
    description_zh = models.TextField(
        "landing text (Simplified Chinese)",
        blank=True,
        help_text="Shown on the category page to Chinese readers; written from our English "
        "records.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(condition=~Q(slug=""), name="category_slug_not_empty")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("incidents:category", args=[self.slug])


class Technology(models.Model):
    """One thing engineers name (CoreDNS, conntrack, CFS quota...), with the spellings they type."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100, unique=True)
    aliases = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "technologies"
        constraints = [
            models.CheckConstraint(condition=~Q(slug=""), name="technology_slug_not_empty")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("incidents:technology", args=[self.slug])


class Story(models.Model):
    """A public Kubernetes failure story, as a structured record."""

    MARKDOWN_FIELDS = ("summary", "symptom", "contributing_factors", "fix", "detection", "impact")

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=300)
    organisation = models.CharField(max_length=200)
    source_url = models.URLField(max_length=500, unique=True)
    source_kind = models.CharField(
        max_length=20, choices=SourceKind.choices, default=SourceKind.BLOG_POST
    )
    year = models.PositiveSmallIntegerField(
        help_text="Publication year (corrected where the k8s.af listing is wrong)."
    )
    listing_year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The k8s.af listing's year, only when it differs."
    )
    published_date = models.DateField(
        null=True, blank=True, help_text="The write-up's date, only when it states it."
    )
    incident_date = models.DateField(
        null=True, blank=True, help_text="When it happened, only when the source states it."
    )
    platform = models.CharField(max_length=20, choices=Platform.choices, default=Platform.UNKNOWN)
    summary = models.TextField(blank=True)
    symptom = models.TextField(blank=True)
    contributing_factors = models.TextField("contributing factors / root cause", blank=True)
    fix = models.TextField(blank=True)
    detection = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    summary_zh = models.TextField(
        "summary (Simplified Chinese)",
        blank=True,
        help_text="Markdown. A translation of the English summary, shown to Chinese readers and "
        "labelled as a translation of our English record.",
    )
    technologies = models.ManyToManyField(Technology, related_name="stories", blank=True)
    categories = models.ManyToManyField(Category, related_name="stories", blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    provenance = models.CharField(
        max_length=10, choices=Provenance.choices, default=Provenance.LISTING
    )
    read_parts = models.CharField(
        max_length=300,
        blank=True,
        help_text="For a partial record: which parts of the source were read.",
    )
    read_from = models.URLField(
        max_length=500, blank=True, help_text="The copy actually read, when not the source URL."
    )
    read_on = models.DateField(
        null=True, blank=True, help_text="When the source was read for this record."
    )
    facts = models.JSONField(
        default=list,
        blank=True,
        help_text="Anchors: [{claim, quote and/or where}] supporting the record's specifics.",
    )
    listing_involved = models.TextField(
        blank=True, help_text="The k8s.af listing's 'involved' line, as listed."
    )
    curation_note = models.TextField(
        blank=True, help_text="Internal: where this record came from, what is left to check."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic locking counter.")
    file_hash = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="SHA-256 of the curated file as last loaded or exported; tells curator edits "
        "apart from file changes.",
    )

    history = HistoricalRecords(m2m_fields=[technologies, categories])

    class Meta:
        ordering = ["-year", "title"]
        verbose_name_plural = "stories"
        indexes = [
            models.Index(fields=["status", "-year", "title"], name="story_status_year"),
            models.Index(fields=["status", "-published_at"], name="story_status_published"),
            # The story sitemap pages through published stories by slug; with updated_at in the
            # index a page is read from the index alone, without sorting the table first.
            models.Index(fields=["status", "slug", "updated_at"], name="story_status_slug"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(slug=""), name="story_slug_not_empty"),
            models.CheckConstraint(condition=~Q(title=""), name="story_title_not_empty"),
            models.CheckConstraint(
                condition=Q(source_url__startswith="http://")
                | Q(source_url__startswith="https://"),
                name="story_source_url_http",
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2014) & Q(year__lte=2100), name="story_year_range"
            ),
            models.CheckConstraint(condition=_in("source_kind", SourceKind), name="story_kind"),
            models.CheckConstraint(condition=_in("platform", Platform), name="story_platform"),
            models.CheckConstraint(condition=_in("status", Status), name="story_status"),
            models.CheckConstraint(condition=_in("provenance", Provenance), name="story_prov"),
            models.CheckConstraint(
                condition=~Q(provenance=Provenance.PARTIAL) | ~Q(read_parts=""),
                name="story_partial_names_parts",
            ),
            models.CheckConstraint(
                condition=Q(read_from="")
                | Q(read_from__startswith="http://")
                | Q(read_from__startswith="https://"),
                name="story_read_from_http",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="story_version_positive"),
            models.CheckConstraint(
                condition=Q(status=Status.DRAFT) | ~Q(summary=""),
                name="story_published_has_summary",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.organisation}, {self.year})"

    def get_absolute_url(self) -> str:
        return reverse("incidents:story", args=[self.slug])

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from incidents.storyfiles import fact_problems

        errors: dict[str, list[str]] = {}
        if not isinstance(self.facts, list):
            errors["facts"] = ["A list of {claim, quote and/or where} entries."]
        else:
            problems = [
                f"Entry {i}: {p}."
                for i, fact in enumerate(self.facts, 1)
                for p in fact_problems(fact)
            ]
            if problems:
                errors["facts"] = problems
        if self.listing_year is not None and self.listing_year == self.year:
            errors["listing_year"] = ["Only for a k8s.af listing year that differs from the year."]
        if errors:
            raise ValidationError(errors)

    @property
    def sort_date(self):
        """The write-up's date, else the incident's: for newest-first order within a year."""
        return self.published_date or self.incident_date


class Rule(models.Model):
    """A database mirror of one rule of the code registry (incidents.rules), kept by sync_rules.

    The registry is the source of truth; rows exist so stories can link to rules with a curated
    note and so the admin can show and search them. `active` is false for a rule that left the
    registry: its ID is never reused, and old links stay readable.
    """

    rule_id = models.CharField("ID", max_length=20, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=300)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    kind = models.CharField(max_length=10, choices=RuleKind.choices, default=RuleKind.MANIFEST)
    summary = models.TextField(blank=True, help_text="What it checks.")
    active = models.BooleanField(default=True)
    stories = models.ManyToManyField(Story, through="StoryRule", related_name="rules")
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rule_id"]
        constraints = [
            models.CheckConstraint(condition=~Q(rule_id=""), name="rule_id_not_empty"),
            models.CheckConstraint(condition=_in("severity", Severity), name="rule_severity"),
            models.CheckConstraint(condition=_in("kind", RuleKind), name="rule_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("incidents:rule", args=[self.rule_id])


class StoryRule(models.Model):
    """A curated link: this rule would have caught (part of) this story."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="rule_links")
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="story_links")
    note = models.CharField(max_length=500, help_text="How the rule relates to the story.")

    class Meta:
        ordering = ["rule__rule_id"]
        constraints = [
            models.UniqueConstraint(fields=["story", "rule"], name="story_rule_unique"),
            models.CheckConstraint(condition=~Q(note=""), name="story_rule_note_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.rule.rule_id} → {self.story.slug}"


class ApiToken(models.Model):
    """A bearer token for the API. Only a SHA-256 of the token is stored, never the token itself.

    The token reads `kb_<prefix>_<secret>`; the prefix finds the row, the hash proves the secret.
    Tokens are created, listed and revoked in the admin and with `manage_api_tokens`
    (both call the functions in incidents.services; incidents.api.auth has the format).
    """

    user = models.ForeignKey(
        "auth.User", on_delete=models.CASCADE, related_name="api_tokens", help_text="Acts as."
    )
    name = models.CharField(max_length=100, help_text="What it is for, e.g. 'CI pipeline'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField(
        "SHA-256 of the token", max_length=64, unique=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = "API token"
        constraints = [
            models.CheckConstraint(condition=~Q(prefix=""), name="api_token_prefix_not_empty"),
            models.CheckConstraint(condition=~Q(name=""), name="api_token_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (kb_{self.prefix}_…, {self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class RateCounter(models.Model):
    """One fixed-window rate-limit counter (incidents.ratelimit) when there is no Redis.

    Kept out of the cache table on purpose: Django's database cache increments by reading and
    rewriting a pickled value, so two workers can both read 7 and both write 8; here one
    `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` adds and reads atomically. Rows past
    `expires` (Unix seconds) are deleted now and then by the limiter itself.
    """

    key = models.CharField(max_length=255, primary_key=True)
    count = models.BigIntegerField(default=0)
    expires = models.BigIntegerField(db_index=True)

    class Meta:
        verbose_name = "rate-limit counter"

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
