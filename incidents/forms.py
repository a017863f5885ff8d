"""Forms of the public pages: the manifest check and the story suggestion."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class CheckForm(forms.Form):
    """Paste or upload YAML/JSON manifests. Exactly one of the two, within the size limit."""

    manifest = forms.CharField(
        label=gettext_lazy("Paste manifests"),
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 18,
                "spellcheck": "false",
                "autocapitalize": "off",
                "wrap": "off",
                "aria-describedby": "manifest-help",
            }
        ),
    )
    file = forms.FileField(label=gettext_lazy("…or upload a file"), required=False)
    story = forms.SlugField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit = settings.KB_MAX_MANIFEST_BYTES
        human = filesizeformat(self.limit)
        self.fields["manifest"].help_text = _(
            "YAML or JSON, one or many documents separated by ---. Up to %(limit)s."
        ) % {"limit": human}
        self.fields["file"].help_text = _(".yaml, .yml or .json, up to %(limit)s.") % {
            "limit": human
        }
        self.fields["file"].widget.attrs["accept"] = ".yaml,.yml,.json,text/yaml,application/json"

    def clean(self) -> dict:
        data = super().clean()
        text = data.get("manifest") or ""
        upload = data.get("file")
        if upload and text.strip():
            raise forms.ValidationError(
                _(
                    "Paste manifests or upload a file, not both: clear the text box to check "
                    "the file."
                )
            )
        if upload:
            if upload.size > self.limit:
                raise forms.ValidationError(
                    _("The file is %(size)s; the limit is %(limit)s. Split it and check the parts.")
                    % {"size": filesizeformat(upload.size), "limit": filesizeformat(self.limit)}
                )
            data["content"] = upload.read()
            data["name"] = upload.name
        elif text.strip():
            if len(text.encode("utf-8")) > self.limit:
                raise forms.ValidationError(
                    _("The text is larger than %(limit)s. Split it and check the parts.")
                    % {"limit": filesizeformat(self.limit)}
                )
            data["content"] = text
            data["name"] = None
        else:
            raise forms.ValidationError(_("Paste some YAML or JSON, or choose a file to upload."))
        return data


class SuggestForm(forms.Form):
    """A reader points curators at a write-up. `website` is a honeypot: people never see it."""

    url = forms.URLField(
        label=gettext_lazy("Link to the write-up"),
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy("The postmortem, blog post, talk or slides."),
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "url"}),
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=300)
    what_happened = forms.CharField(
        label=gettext_lazy("What happened?"),
        max_length=4000,
        help_text=gettext_lazy("A sentence or two: what broke, and why it is worth learning from."),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    website = forms.CharField(
        label=gettext_lazy("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("Enter an http:// or https:// link."))
        return url

    @property
    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files at once (the snapshot script writes four)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class SnapshotForm(forms.Form):
    """Upload the files of a cluster snapshot (deploy/snapshot.sh), or paste one JSON document."""

    files = MultipleFileField(label=gettext_lazy("Snapshot files"), required=False)
    text = forms.CharField(
        label=gettext_lazy("…or paste JSON"),
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 10, "spellcheck": "false", "autocapitalize": "off", "wrap": "off"}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit = settings.KB_MAX_SNAPSHOT_BYTES
        human = filesizeformat(self.limit)
        self.fields["files"].help_text = _(
            "The .json files deploy/snapshot.sh writes (select them all), up to %(size)s in all."
        ) % {"size": human}
        self.fields["files"].widget.attrs["accept"] = ".json,application/json"
        self.fields["text"].help_text = _(
            "One snapshot document, or several as a JSON array (jq -s . snapshot/*.json)."
        )

    def clean(self) -> dict:
        data = super().clean()
        uploads = data.get("files") or []
        text = data.get("text") or ""
        if uploads and text.strip():
            raise forms.ValidationError(_("Upload files or paste JSON, not both."))
        size = sum(u.size for u in uploads) if uploads else len(text.encode("utf-8"))
        if size > self.limit:
            raise forms.ValidationError(
                _("The snapshot is %(size)s; the limit is %(limit)s.")
                % {"size": filesizeformat(size), "limit": filesizeformat(self.limit)}
            )
        if uploads:
            data["snapshot"] = [(u.name, u.read()) for u in uploads]
        elif text.strip():
            data["snapshot"] = [("pasted", text)]
        else:
            raise forms.ValidationError(_("Choose the snapshot files or paste a JSON document."))
        return data
