"""
Old addresses of the site (pages.models.Redirect): answered with a redirect to
where their content is now, or with "410 Gone".

Pages that exist cost nothing: a path is looked up only once the site has
answered it with "404 Not found". The one exception is WordPress's query-string
addresses (/?p=123), whose path is usually the home page; no page reads their
parameters, and only requests that carry one are looked up first.
"""

from django.http import HttpResponsePermanentRedirect, HttpResponseRedirect
from django.shortcuts import render

from .models import Redirect, query_address


def path_addresses(path):
    """A path as typed, and with the trailing slash the site's addresses end with."""
    return [path] if path.endswith("/") else [path, f"{path}/"]


def redirect_response(request, redirect):
    redirect.record_hit()
    if redirect.is_gone:
        return render(request, "410.html", status=410)
    if redirect.answer == Redirect.Answer.TEMPORARY:
        return HttpResponseRedirect(redirect.url)
    return HttpResponsePermanentRedirect(redirect.url)


class RedirectMiddleware:
    """Answer old addresses; see the module's docstring."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        wordpress_address = query_address(request.path, request.GET)
        if wordpress_address and (
            redirect := Redirect.objects.for_addresses([wordpress_address])
        ):
            return redirect_response(request, redirect)
        response = self.get_response(request)
        if response.status_code != 404:
            return response
        redirect = Redirect.objects.for_addresses(path_addresses(request.path))
        return redirect_response(request, redirect) if redirect else response
