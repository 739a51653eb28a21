from django import forms


class CodeForm(forms.Form):
    """A code from an authenticator app or a recovery code (the templates draw it)."""

    code = forms.CharField(label="Code", max_length=64)
