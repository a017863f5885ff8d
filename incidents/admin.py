"""Curation admin. Saves and actions go through services; every change is in the history."""

from __future__ import annotations

import base64
import hashlib

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from incidents import services
from incidents.markdown import render_markdown
from incidents.models import ApiToken, Category, Rule, Status, Story, StoryRule, Technology

SECTION_HELP = "Markdown. A live preview appears beside the field."
# django-simple-history's history list has one inline style attribute (`border-top: 0` on its
# paginator). Its history page allows exactly that attribute, by hash, instead of blocking it
# (a console error on every visit) or allowing inline styles in general.
HISTORY_INLINE_STYLE = "'unsafe-hashes' 'sha256-{}'".format(
    base64.b64encode(hashlib.sha256(b"border-top: 0").digest()).decode()
)


class StoryAdminForm(forms.ModelForm):
    """Carries the version the curator started from; a save against a newer row is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    source_url = forms.URLField(max_length=500, assume_scheme="https")
    read_from = forms.URLField(max_length=500, assume_scheme="https", required=False)

    class Meta:
        model = Story
        exclude: list[str] = []  # every editable field; the admin's fieldsets order them
        widgets = {
            name: forms.Textarea(attrs={"rows": 6, "class": "kb-markdown", "cols": 100})
            for name in (*Story.MARKDOWN_FIELDS, "summary_zh")
        }

    def clean_source_url(self) -> str:
        return services.source_url_normalised(self.cleaned_data["source_url"])

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            # Inside the admin's transaction: the row stays locked until save_model's write.
            try:
                services.story_lock(
                    story_pk=self.instance.pk, expected_version=cleaned.get("version")
                )
            except services.StaleStoryError as exc:
                raise forms.ValidationError(str(exc)) from None
            except Story.DoesNotExist:
                pass  # deleted meanwhile: the admin's own lookup reports it
        return cleaned

    def admin_data(self) -> dict:
        """What the curator changed (every field for a new story), for the services."""
        names = self.changed_data if self.instance.pk else list(self.cleaned_data)
        return {n: self.cleaned_data[n] for n in names if n in self.cleaned_data and n != "version"}


LINKS_NOTE = _(
    "Story-rule links are curated in incidents/data/story_rules.yaml (with the story files) and "
    "loaded by load_stories; here they are read-only, so a load never overwrites an admin edit."
)


class StoryRuleInline(admin.TabularInline):
    """The links of a story or a rule, shown read-only (their owner is the links file)."""

    model = StoryRule
    extra = 0
    fields = ["rule", "note"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("Rule links (read-only: edit incidents/data/story_rules.yaml)")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RuleStoryInline(StoryRuleInline):
    fields = ["story", "note"]
    readonly_fields = fields


@admin.register(Story)
class StoryAdmin(SimpleHistoryAdmin):
    form = StoryAdminForm
    list_display = [
        "title",
        "organisation",
        "year",
        "platform",
        "status",
        "provenance",
        "updated_at",
    ]
    list_filter = ["status", "categories", "platform", "year", "provenance", "source_kind"]
    search_fields = ["title", "organisation", "summary", "symptom", "source_url", "slug"]
    prepopulated_fields = {"slug": ["organisation", "title"]}
    filter_horizontal = ["categories", "technologies"]
    readonly_fields = ["created_at", "updated_at", "published_at"]
    date_hierarchy = "updated_at"
    list_per_page = 50
    actions = ["publish", "unpublish"]
    inlines = [StoryRuleInline]
    history_list_display = ["status", "version"]
    fieldsets = [
        (
            "Source",
            {
                "fields": [
                    "title", "slug", "organisation", "source_url", "source_kind",
                    ("year", "listing_year"), ("published_date", "incident_date"), "platform",
                    "provenance", "read_parts", "read_from", "read_on", "facts",
                    "listing_involved",
                ]
            },
        ),
        (
            "The story",
            {
                "description": SECTION_HELP,
                "fields": list(Story.MARKDOWN_FIELDS),
            },
        ),
        (
            "Chinese",
            {
                "description": "Optional. A Simplified Chinese translation of the summary, "
                "written from our English record; the page says it is a translation.",
                "fields": ["summary_zh"],
            },
        ),
        ("Classification", {"fields": ["categories", "technologies"]}),
        (
            "Curation",
            {
                "fields": [
                    "status", "curation_note", "version", "created_at", "updated_at",
                    "published_at",
                ]
            },
        ),
    ]  # fmt: skip

    class Media:
        css = {"all": ["css/admin-preview.css"]}
        js = ["js/admin-preview.js"]

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context=extra_context)
        policy = settings.KB_CONTENT_SECURITY_POLICY
        if policy and "style-src 'self'" in policy:
            response["Content-Security-Policy"] = policy.replace(
                "style-src 'self'", f"style-src 'self' {HISTORY_INLINE_STYLE}", 1
            )
        return response

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.base_fields["version"].initial = obj.version if obj else None
        return form

    def save_model(self, request, obj, form, change):
        """Through the services, like every other write: version, published_at, history, the
        search index and the page cache are theirs to keep."""
        if change:
            services.story_update(
                story=obj,
                data=form.admin_data(),
                expected_version=form.cleaned_data.get("version"),
                user=request.user,
            )  # obj is refreshed to the saved row
            return
        story = services.story_create(data=form.admin_data(), user=request.user)
        obj.__dict__.update({k: v for k, v in story.__dict__.items() if not k.startswith("_")})
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """The services set categories and technologies; the link inline is read-only."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        services.story_delete(story=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for story in queryset:
            services.story_delete(story=story, user=request.user)

    @admin.action(description=_("Publish selected stories"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset):
        done = 0
        for story in queryset.exclude(status=Status.PUBLISHED):
            try:
                services.story_publish(story=story, user=request.user)
                done += 1
            except Exception as exc:  # a validation problem on one story must not stop the rest
                self.message_user(
                    request,
                    gettext("%(story)s: not published: %(error)s") % {"story": story, "error": exc},
                    messages.ERROR,
                )
        message = ngettext("Published %(count)d story.", "Published %(count)d stories.", done)
        self.message_user(request, message % {"count": done}, messages.SUCCESS)

    @admin.action(
        description=_("Unpublish selected stories (back to draft)"), permissions=["change"]
    )
    def unpublish(self, request: HttpRequest, queryset):
        done = 0
        for story in queryset.filter(status=Status.PUBLISHED):
            services.story_unpublish(story=story, user=request.user)
            done += 1
        message = ngettext("Unpublished %(count)d story.", "Unpublished %(count)d stories.", done)
        self.message_user(request, message % {"count": done}, messages.SUCCESS)

    def get_urls(self):
        preview = self.admin_site.admin_view(require_POST(self.preview_view))
        return [
            path("preview/", preview, name="incidents_story_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest) -> JsonResponse:
        """Render the posted Markdown exactly as the story page will (sanitised)."""
        if not self.has_change_permission(request) and not self.has_add_permission(request):
            return JsonResponse({"error": "forbidden"}, status=403)
        text = request.POST.get("text", "")[:100_000]
        return JsonResponse({"html": render_markdown(text)})


class VocabularyAdmin(admin.ModelAdmin):
    """Writes go through the services: the stories carrying the term are reindexed (its name
    and aliases are searched with them) and cached pages and hits start afresh."""

    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        services.vocabulary_term_save(term=obj)

    def delete_model(self, request, obj):
        services.vocabulary_term_delete(term=obj)

    def delete_queryset(self, request, queryset):
        for term in queryset:
            services.vocabulary_term_delete(term=term)


@admin.register(Technology)
class TechnologyAdmin(VocabularyAdmin):
    list_display = ["name", "slug", "aliases"]
    search_fields = ["name", "slug", "aliases"]


@admin.register(Category)
class CategoryAdmin(VocabularyAdmin):
    list_display = ["name", "slug", "name_zh"]
    search_fields = ["name", "slug"]


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ["rule_id", "title", "severity", "kind", "active"]
    list_filter = ["severity", "kind", "active"]
    search_fields = ["rule_id", "slug", "title"]
    readonly_fields = ["rule_id", "slug", "title", "severity", "kind", "summary", "synced_at"]
    inlines = [RuleStoryInline]

    def has_add_permission(self, request):
        return False  # rows come from the code registry (sync_rules)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StoryRule)
class StoryRuleAdmin(admin.ModelAdmin):
    """Read-only: the links' owner is incidents/data/story_rules.yaml (see LINKS_NOTE)."""

    list_display = ["rule", "story", "note"]
    list_filter = ["rule"]
    search_fields = ["story__title", "rule__rule_id", "note"]
    readonly_fields = ["rule", "story", "note"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        messages.info(request, LINKS_NOTE)
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens: the plaintext is shown once, after creation; only its hash is stored.

    Staff who are not superusers see and create only their own tokens, so a token never carries
    more permissions than the person who made it.
    """

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user")
        return qs if request.user.is_superuser else qs.filter(user=request.user)

    def get_fields(self, request, obj=None):
        return ["name", "user", *self.readonly_fields] if obj else ["name", "user"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "user"] if obj else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
            kwargs["initial"] = request.user.pk
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            services.api_token_rename(token=obj, name=obj.name)
            return
        user = obj.user if request.user.is_superuser else request.user
        token, plaintext = services.api_token_create(user=user, name=obj.name)
        obj.__dict__.update({k: v for k, v in token.__dict__.items() if not k.startswith("_")})
        obj._state.adding = False
        self.message_user(
            request,
            f"New API token for {user}: {plaintext}  (copy it now: it is not shown again)",
            messages.WARNING,
        )

    @admin.action(description=_("Revoke selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.api_token_revoke(token=token)
            count += 1
        message = ngettext("Revoked %(count)d token.", "Revoked %(count)d tokens.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)
