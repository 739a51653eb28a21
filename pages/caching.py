"""
The public pages' cache: visitors get articles, topics, pages and the home page
as cheaply as static files, while staff always see their edits at once.

What is cached, and for whom
- Views marked with @public_page (see pages/urls.py) are public pages. For a GET
  without a session cookie, PublicPageCacheMiddleware keeps the whole 200 response
  in the "public_pages" cache (Redis, or a database table of its own), shared by
  every process, and in the "pages" cache, each process's own memory, and serves
  it again without running the view. Such responses also tell browsers and reverse
  proxies they may keep them briefly (Cache-Control public, max-age,
  stale-while-revalidate), carry an ETag, and set no cookie and no "Vary: Cookie".
- A page is compressed once, when it is rendered: it is kept as Brotli, gzip and
  uncompressed, and each visitor gets the smallest their browser accepts, with
  "Content-Encoding" and "Vary: Accept-Encoding", and an ETag of its own (a 304
  works in every encoding). A cached page thus costs no compression anywhere.
- A page is kept under its path, plus its page number for ?page=N. With any other
  query string it is rendered live and marked "never cache": the pagination links
  keep every parameter, so it is another page, and no visitor can make the cache
  hold more pages than the site has. Since public pages have a cache of their
  own, what they store never evicts anything else.
- A request with a session cookie (logged-in staff) gets the live page with
  "never cache" headers, as does every request in debug mode, so that template
  edits show at once. Pages that are not marked are left alone: the
  consultation form is never cached.

What makes pages fresh
- Every cached page records the content version it was rendered from, and only a
  page of the current version is served. The version is kept in the shared cache
  together with the time of the next scheduled publication.
- Any saved or deleted article, page, topic or clinic details, and any change to
  an article's topics or a page's featured articles, forgets the version once the
  change is committed, so every page is rendered afresh. The signal receivers
  below are the only ones in the project and are connected in PagesConfig.ready().
  QuerySet.update() sends no signal: call content_changed() after one.
- Each process notes the version it read and asks the shared cache again after
  PAGES_CONTENT_CHECK_SECONDS (half a second), so that a cached page costs no
  round trip to Redis or the database: a change saved by this process shows at
  once, one saved by another process within that time.
- When a scheduled article's publication time has passed, the next request starts
  a new version: the article appears without anyone touching anything. Browsers
  and proxies are never told to keep a page beyond that time either.
- Pages are stored per release (settings.RELEASE, the deployed commit), so a
  deploy never serves pages rendered by the code it replaced.

When the cache is unavailable, pages are rendered live for everyone.
"""

import gzip
import hashlib
import logging
import math
import re
import time
import uuid

import brotli
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models import Min
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.urls import Resolver404, resolve
from django.utils.cache import (
    add_never_cache_headers,
    patch_cache_control,
    quote_etag,
)

STATE_KEY = "pages:content-state"
# The only query string a public page reads: a page of a paginated list.
PAGE_QUERY = re.compile(r"page=[1-9][0-9]{0,5}")
# The encodings pages are kept in besides identity, smallest first, found in
# Accept-Encoding as Django's GZipMiddleware finds gzip (q-values not weighed:
# browsers never refuse these two).
ENCODINGS = {
    "br": re.compile(r"\bbr\b", re.IGNORECASE),
    "gzip": re.compile(r"\bgzip\b", re.IGNORECASE),
}

logger = logging.getLogger(__name__)


class CacheUnavailable(Exception):
    pass


def from_cache(operation, *args):
    """A cache operation: if the cache fails in any way, CacheUnavailable."""
    try:
        return operation(*args)
    except Exception as error:  # Redis and the database cache fail differently
        raise CacheUnavailable from error


def shared_cache():
    return caches["public_pages"]


def public_page(view):
    """
    Mark a view whose GET responses are the same for every anonymous visitor, and
    depend on the path and on ?page= only.
    """
    view.public_page = True
    return view


def content_changed(using=None, **kwargs):
    """Render every public page afresh once the current transaction commits."""
    transaction.on_commit(forget_content_state, using=using)


def m2m_content_changed(action, using=None, **kwargs):
    if action.startswith("post_"):
        content_changed(using=using)


def forget_content_state():
    NotedContentState.forget()
    try:
        from_cache(shared_cache().delete, STATE_KEY)
    except CacheUnavailable:  # the change is saved; only the cache missed it
        logger.exception("The cache is unavailable: pages may show old content")


def connect_content_signals():
    from .models import Article, ClinicDetails, Page, Topic

    for model in (Article, ClinicDetails, Page, Topic):
        post_save.connect(content_changed, sender=model, dispatch_uid="pages-cache")
        post_delete.connect(content_changed, sender=model, dispatch_uid="pages-cache")
    for through in (Article.topics.through, Page.featured_articles.through):
        m2m_changed.connect(m2m_content_changed, sender=through)


def new_content_state():
    from .models import Article

    scheduled = Article.objects.scheduled().aggregate(first=Min("published_at"))
    next_publication = scheduled["first"]
    return {
        "version": uuid.uuid4().hex,
        "next_publication": next_publication and next_publication.timestamp(),
    }


def current_content_state(state):
    """The given state, or a new one if there is none or its time has come."""
    next_publication = state and state["next_publication"]
    if state is None or (next_publication and next_publication <= time.time()):
        state = new_content_state()
        from_cache(shared_cache().set, STATE_KEY, state, settings.PAGES_CACHE_TIMEOUT)
    return state


class NotedContentState:
    """This process's note of the content state, read from the shared cache."""

    state = None
    read_at = -math.inf

    @classmethod
    def get(cls):
        now = time.monotonic()
        if now - cls.read_at >= settings.PAGES_CONTENT_CHECK_SECONDS:
            cls.state = from_cache(shared_cache().get, STATE_KEY)
            cls.read_at = now
        cls.state = current_content_state(cls.state)
        return cls.state

    @classmethod
    def forget(cls):
        cls.state = None
        cls.read_at = -math.inf


def add_sharing_headers(response, state):
    """Let browsers and proxies keep the page briefly, never past a publication."""
    max_age = settings.PAGES_HTTP_MAX_AGE
    if state["next_publication"]:
        until_next = math.floor(state["next_publication"] - time.time())
        max_age = max(0, min(max_age, until_next))
    patch_cache_control(
        response,
        public=True,
        max_age=max_age,
        stale_while_revalidate=settings.PAGES_HTTP_STALE_WHILE_REVALIDATE,
    )


def accepted_encoding(request):
    """The smallest encoding of a page that the client accepts, or "identity"."""
    accept_encoding = request.headers.get("Accept-Encoding", "")
    return next(
        (name for name, named in ENCODINGS.items() if named.search(accept_encoding)),
        "identity",
    )


def encoded(content):
    """The page's bytes in each encoding it is kept in, as small as they get."""
    return {
        "br": brotli.compress(content, mode=brotli.MODE_TEXT, quality=11),
        # mtime=0: the same page always gives the same bytes, and so the same ETag.
        "gzip": gzip.compress(content, compresslevel=9, mtime=0),
        "identity": content,
    }


def variant_headers(headers, encoding, content):
    headers = headers | {
        "Content-Length": str(len(content)),
        "ETag": quote_etag(hashlib.md5(content, usedforsecurity=False).hexdigest()),
        "Vary": "Accept-Encoding",
    }
    if encoding != "identity":
        headers["Content-Encoding"] = encoding
    return headers


def page_address(request):
    """The path, and the page number if any: None for another query string."""
    query = request.META.get("QUERY_STRING", "")
    if not query:
        return request.path
    if PAGE_QUERY.fullmatch(query):
        return f"{request.path}?{query}"
    return None


class PageLookup:
    """One anonymous GET of a public page: its cached copy, or where to keep it."""

    def __init__(self, request, address):
        self.request = request
        digest = hashlib.sha256(address.encode()).hexdigest()
        self.page_key = f"pages:page:{settings.RELEASE}:{digest}"
        self.key = self.variant_key(accepted_encoding(request))
        self.is_get = request.method == "GET"
        self.state = NotedContentState.get()
        self.entry = self.current_entry()

    def variant_key(self, encoding):
        return f"{self.page_key}:{encoding}"

    def current_entry(self):
        """The page of the current version: this process's copy, else the shared one."""
        version = self.state["version"]
        entry = caches["pages"].get(self.key)
        if entry is None or entry["version"] != version:
            entry = from_cache(shared_cache().get, self.key)
            if entry is None or entry["version"] != version:
                return None
            caches["pages"].set(self.key, entry, settings.PAGES_CACHE_TIMEOUT)
        return entry

    @classmethod
    def for_request(cls, request):
        """A lookup for requests that may get a shared page, else None."""
        if settings.DEBUG:  # while developing, template edits show at once
            return None
        if request.method not in ("GET", "HEAD"):
            return None
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            return None
        address = page_address(request)
        if address is None:
            return None
        try:
            return cls(request, address)
        except CacheUnavailable:
            logger.warning("The cache is unavailable: pages are served live")
            return None

    def cached_response(self):
        if not self.entry:
            return None
        response = HttpResponse(self.entry["content"], headers=self.entry["headers"])
        add_sharing_headers(response, self.state)
        return response

    def keep(self, response):
        """Mark a fresh 200 response as shareable and store it for the next visitor."""
        if response.status_code != 200 or response.streaming or response.cookies:
            return
        # Whatever it varies on (a cookie, an encoding), it is not one page for all.
        if response.has_header("Vary"):
            return
        # A CSP nonce in the page only matches this response's header.
        if get_nonce(self.request):
            return
        if self.is_get:
            self.store(response)
        add_sharing_headers(response, self.state)

    def store(self, response):
        """Keep the page in every encoding, and answer with the client's."""
        headers = dict(response.items())
        headers.pop("Content-Length", None)
        entries = {
            self.variant_key(encoding): {
                "version": self.state["version"],
                "headers": variant_headers(headers, encoding, content),
                "content": content,
            }
            for encoding, content in encoded(response.content).items()
        }
        timeout = settings.PAGES_CACHE_TIMEOUT
        caches["pages"].set_many(entries, timeout)
        try:
            from_cache(shared_cache().set_many, entries, timeout)
        except CacheUnavailable:  # the page is rendered: send it all the same
            logger.warning("The cache is unavailable: this page is not kept")
        entry = entries[self.key]
        response.content = entry["content"]
        for name, value in entry["headers"].items():
            response[name] = value


def serves_public_page(request):
    """Whether the request's address is one of a view marked @public_page."""
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return getattr(match.func, "public_page", False)


class PublicPageCacheMiddleware:
    """Serve public pages from the cache; see the module's docstring."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Other pages (the consultation form, the admin) cost no cache lookup.
        if not serves_public_page(request):
            return self.get_response(request)
        lookup = PageLookup.for_request(request)
        if lookup and (response := lookup.cached_response()):
            return response
        response = self.get_response(request)
        if lookup:
            lookup.keep(response)
        else:
            add_never_cache_headers(response)
        return response
