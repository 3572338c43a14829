from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from storefront.selectors import orders_for_shopper, policy_get
from tenants.context import context_for_request


def _ctx(request):
    ctx = context_for_request(request)
    if ctx is None:
        raise Http404("no store here")
    return ctx


def page_context(request, ctx) -> dict:
    """What every store page's header needs."""
    return {
        "ctx": ctx,
        "signed_in": ctx is not None and ctx.shopper_sub is not None,
        "display_name": request.user.first_name if ctx is not None and ctx.shopper_sub else "",
    }


@require_GET
def store_home(request):
    ctx = _ctx(request)
    return render(
        request,
        "storefront/home.html",
        {
            **page_context(request, ctx),
            "policy": policy_get(ctx=ctx),
            "orders": orders_for_shopper(ctx=ctx),
            "max_prompt_chars": settings.ASSISTANT_MAX_PROMPT_CHARS,
            "assistant_config": {"sub": ctx.shopper_sub, "maxPrompt": settings.ASSISTANT_MAX_PROMPT_CHARS},
        },
    )


@require_GET
def policy_page(request):
    ctx = _ctx(request)
    return render(request, "storefront/policy.html", {**page_context(request, ctx), "policy": policy_get(ctx=ctx)})


@require_GET
def signin_failed(request):
    ctx = context_for_request(request)
    return render(
        request,
        "storefront/signin_failed.html",
        {**page_context(request, ctx), "message": "We could not sign you in."},
        status=403,
    )


@require_GET
def healthz(request):
    return JsonResponse({"ok": True})


@require_GET
def favicon(request):
    return HttpResponse(status=204)
