from django.urls import path

from . import views
from .caching import public_page
from .feeds import LatestArticlesFeed

app_name = "pages"

urlpatterns = [
    path("", public_page(views.HomeView.as_view()), name="home"),
    path("robots.txt", views.RobotsView.as_view(), name="robots"),
    path("favicon.ico", views.FaviconView.as_view(), name="favicon"),
    path("search/", views.SearchView.as_view(), name="search"),
    path(
        "articles/", public_page(views.ArticleListView.as_view()), name="article_list"
    ),
    path("articles/feed.xml", LatestArticlesFeed(), name="article_feed"),
    path(
        "articles/<slug:slug>/",
        public_page(views.ArticleDetailView.as_view()),
        name="article",
    ),
    path(
        "topics/<slug:slug>/",
        public_page(views.TopicDetailView.as_view()),
        name="topic",
    ),
    path("<slug:slug>/", public_page(views.PageDetailView.as_view()), name="page"),
]
