"""Forms of the public pages: the manifest check and the story suggestion."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat


class CheckForm(forms.Form):
    """Paste or upload YAML/JSON manifests. Exactly one of the two, within the size limit."""

    manifest = forms.CharField(
        label="Paste manifests",
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
    file = forms.FileField(label="…or upload a file", required=False)
    story = forms.SlugField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit = settings.KB_MAX_MANIFEST_BYTES
        human = filesizeformat(self.limit)
        self.fields[
            "manifest"
        ].help_text = f"YAML or JSON, one or many documents separated by ---. Up to {human}."
        self.fields["file"].help_text = f".yaml, .yml or .json, up to {human}."
        self.fields["file"].widget.attrs["accept"] = ".yaml,.yml,.json,text/yaml,application/json"

    def clean(self) -> dict:
        data = super().clean()
        text = data.get("manifest") or ""
        upload = data.get("file")
        if upload and text.strip():
            raise forms.ValidationError(
                "Paste manifests or upload a file, not both: clear the text box to check the file."
            )
        if upload:
            if upload.size > self.limit:
                raise forms.ValidationError(
                    f"The file is {filesizeformat(upload.size)}; the limit is "
                    f"{filesizeformat(self.limit)}. Split it and check the parts."
                )
            data["content"] = upload.read()
            data["name"] = upload.name
        elif text.strip():
            if len(text.encode("utf-8")) > self.limit:
                raise forms.ValidationError(
                    f"The text is larger than {filesizeformat(self.limit)}. "
                    "Split it and check the parts."
                )
            data["content"] = text
            data["name"] = None
        else:
            raise forms.ValidationError("Paste some YAML or JSON, or choose a file to upload.")
        return data


class SuggestForm(forms.Form):
    """A reader points curators at a write-up. `website` is a honeypot: people never see it."""

    url = forms.URLField(
        label="Link to the write-up",
        max_length=500,
        assume_scheme="https",
        help_text="The postmortem, blog post, talk or slides.",
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "url"}),
    )
    title = forms.CharField(label="Title", max_length=300)
    what_happened = forms.CharField(
        label="What happened?",
        max_length=4000,
        help_text="A sentence or two: what broke, and why it is worth learning from.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError("Enter an http:// or https:// link.")
        return url

    @property
    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("website"))
