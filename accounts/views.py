from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import LoginForm, PasswordChangeForm, ProfileForm, SignupForm

BACKEND = "accounts.backends.EmailBackend"


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return resolve_url("home")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (user := form.save()):
        login(request, user, backend=BACKEND)
        messages.success(request, f"Welcome to Papertrade, {user.display_name}!")
        return redirect(_next_url(request))
    status = 400 if form.errors else 200
    return TemplateResponse(request, "accounts/signup.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request))
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user, backend=BACKEND)
        messages.success(request, "You are logged in.")
        return redirect(_next_url(request))
    context = {"form": form, "next": request.GET.get("next", "")}
    status = 400 if form.errors else 200
    return TemplateResponse(request, "accounts/login.html", context, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are logged out.")
    return redirect("home")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    profile_form = ProfileForm(user=request.user)
    password_form = PasswordChangeForm(user=request.user)
    status = 200
    if request.method == "POST" and request.POST.get("form") == "profile":
        profile_form = ProfileForm(request.POST, user=request.user)
        if profile_form.is_valid() and profile_form.save():
            messages.success(request, "Profile saved.")
            return redirect("accounts:profile")
        status = 400
    elif request.method == "POST" and request.POST.get("form") == "password":
        password_form = PasswordChangeForm(user=request.user, data=request.POST)
        if password_form.is_valid():
            user = password_form.save()
            update_session_auth_hash(request, user)
            messages.success(request, "Password changed.")
            return redirect("accounts:profile")
        status = 400
    context = {"profile_form": profile_form, "password_form": password_form}
    template = "accounts/profile.html"
    if request.htmx and status == 400:
        template += "#forms"
    return TemplateResponse(request, template, context, status=status)
