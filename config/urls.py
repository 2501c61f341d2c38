from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config import health, views
from market.api.urls import watchlist_urlpatterns

admin.site.site_header = "Papertrade administration"
admin.site.site_title = "Papertrade admin"
admin.site.index_title = "Operations"

api_urlpatterns = [
    path("auth/", include("accounts.api.urls")),
    path("market/", include("market.api.urls")),
    path("", include(watchlist_urlpatterns)),
    path("", include("trading.api.urls")),  # /api/accounts...
    path("", include("tournaments.api.urls")),  # /api/tournaments...
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("health", health.health, name="health"),
    path("accounts/", include("accounts.urls")),
    # trading before market: trading owns /trade/ and /trade/<symbol>/ (its page extends the
    # market chart page); market's own names for those paths still reverse to the same URLs.
    path("", include("trading.urls")),  # /trade/, /portfolio/, /orders/, /trading-accounts/...
    path("", include("market.urls")),  # /markets/
    path("tournaments/", include("tournaments.urls")),
    path("api/", include(api_urlpatterns)),
    path("admin/", admin.site.urls),
]

handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
