from django.urls import path

from . import views
from .caching import public_page

app_name = "pages"

urlpatterns = [
    path("", public_page(views.HomeView.as_view()), name="home"),
    path(
        "articles/", public_page(views.ArticleListView.as_view()), name="article_list"
    ),
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
