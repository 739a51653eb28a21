from django.urls import path

from . import views

app_name = "pages"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("articles/", views.ArticleListView.as_view(), name="article_list"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="article"),
    path("topics/<slug:slug>/", views.TopicDetailView.as_view(), name="topic"),
    path("<slug:slug>/", views.PageDetailView.as_view(), name="page"),
]
