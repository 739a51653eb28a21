from django.urls import path

from . import views
from .feeds import LatestArticlesFeed

app_name = "pages"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("robots.txt", views.RobotsView.as_view(), name="robots"),
    path("favicon.ico", views.FaviconView.as_view(), name="favicon"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("articles/", views.ArticleListView.as_view(), name="article_list"),
    path("articles/feed.xml", LatestArticlesFeed(), name="article_feed"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="article"),
    path("topics/<slug:slug>/", views.TopicDetailView.as_view(), name="topic"),
    path("<slug:slug>/", views.PageDetailView.as_view(), name="page"),
]
