from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config import health, views

admin.site.site_header = "Papertrade administration"
admin.site.site_title = "Papertrade admin"
admin.site.index_title = "Operations"

api_urlpatterns = [
    path("auth/", include("accounts.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("health", health.health, name="health"),
    path("accounts/", include("accounts.urls")),
    path("api/", include(api_urlpatterns)),
    path("admin/", admin.site.urls),
]

handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
