from django import forms
from django.db import models
from django.urls import reverse

from .models import Article, Topic


class DeletedArticleAddressForm(forms.Form):
    """Where the address of a published article that staff delete sends visitors."""

    class Destination(models.TextChoices):
        ARTICLE = "article", "To another article"
        TOPIC = "topic", "To a topic"
        ARTICLE_LIST = "list", "To the list of all articles"
        GONE = "gone", "Nowhere: say the page was removed (410 Gone)"

    destination = forms.ChoiceField(
        label="Where should its address send visitors?",
        choices=Destination,
        widget=forms.RadioSelect,
        help_text="Patients and search engines have links to it. Sending them to "
        "something close keeps those links useful.",
    )
    article = forms.ModelChoiceField(
        queryset=Article.objects.none(),
        required=False,
        label="Article",
        help_text="With “To another article”: a published article.",
    )
    topic = forms.ModelChoiceField(
        queryset=Topic.objects.all(),
        required=False,
        label="Topic",
        help_text="With “To a topic”.",
    )

    def __init__(self, *args, deleted=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["article"].queryset = Article.objects.published().exclude(
            pk__in=[article.pk for article in deleted]
        )

    def clean(self):
        cleaned_data = super().clean()
        destination = cleaned_data.get("destination")
        for name in ("article", "topic"):
            if destination == name and not cleaned_data.get(name):
                self.add_error(
                    name,
                    forms.ValidationError(
                        f"Choose the {name} visitors should go to.",
                        code=f"{name}_required",
                    ),
                )
        return cleaned_data

    def target(self):
        """The article or topic to send visitors to, and the address otherwise."""
        destination = self.cleaned_data["destination"]
        if destination in (self.Destination.ARTICLE, self.Destination.TOPIC):
            return self.cleaned_data[destination], ""
        if destination == self.Destination.ARTICLE_LIST:
            return None, reverse("pages:article_list")
        return None, ""
