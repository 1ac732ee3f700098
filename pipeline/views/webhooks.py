"""The director's webhook pages (issue 14): endpoints and robots, one endpoint's deliveries with their attempts, and
the buttons that resend a delivery or send a test event. Everyone else gets 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import SalesFlowError
from core.forms import add_service_error
from pipeline.forms.webhooks import EndpointForm
from pipeline.models import WebhookDelivery, WebhookEndpoint
from pipeline.selectors.webhooks import delivery_page, endpoint_rows
from pipeline.services.webhooks import create_endpoint, resend_delivery, send_test_event, update_endpoint


def _director_only(request: HttpRequest) -> None:
    if not request.user.is_director:
        raise Http404


def _endpoint(request: HttpRequest, pk: int) -> WebhookEndpoint:
    _director_only(request)
    return get_object_or_404(WebhookEndpoint.objects.visible_to(request.user).select_related("team"), pk=pk)


@login_required
@require_GET
def webhook_list(request: HttpRequest) -> HttpResponse:
    """Every endpoint and robot with its deliveries counted by status."""
    _director_only(request)
    return render(request, "pipeline/webhook_list.html", {"rows": endpoint_rows(viewer=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    """Registers an endpoint; a generated secret is shown once, on the page it leads to."""
    _director_only(request)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = create_endpoint(created_by=request.user, **form.cleaned_data)
        except SalesFlowError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Endpoint registered."))
            if endpoint.secret and not form.cleaned_data["secret"]:
                messages.info(
                    request,
                    _("Its signing secret, shown only this once: %(secret)s") % {"secret": endpoint.secret},
                )
            return redirect("pipeline:webhook_deliveries", pk=endpoint.pk)
    return render(request, "pipeline/webhook_form.html", {"form": form, "endpoint": None})


@login_required
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Changes an endpoint; an empty secret keeps the current one."""
    endpoint = _endpoint(request, pk)
    form = EndpointForm(request.POST or None, endpoint=endpoint)
    if request.method == "POST" and form.is_valid():
        try:
            update_endpoint(endpoint=endpoint, changed_by=request.user, **form.cleaned_data)
        except SalesFlowError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Endpoint saved."))
            return redirect("pipeline:webhook_list")
    return render(request, "pipeline/webhook_form.html", {"form": form, "endpoint": endpoint})


@login_required
@require_GET
def webhook_deliveries(request: HttpRequest, pk: int) -> HttpResponse:
    """The endpoint's deliveries, newest first and paginated, each with its attempts."""
    endpoint = _endpoint(request, pk)
    page = delivery_page(endpoint=endpoint, page=request.GET.get("page"))
    return render(request, "pipeline/webhook_deliveries.html", {"endpoint": endpoint, "page_obj": page})


@login_required
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Queues a test event to the endpoint."""
    endpoint = _endpoint(request, pk)
    send_test_event(endpoint=endpoint, sent_by=request.user)
    messages.success(request, _("Test event queued: it is sent within a minute."))
    return redirect("pipeline:webhook_deliveries", pk=endpoint.pk)


@login_required
@require_POST
def delivery_resend(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    """Sends a delivery again, with the same event id."""
    endpoint = _endpoint(request, pk)
    delivery = get_object_or_404(WebhookDelivery, endpoint=endpoint, pk=delivery_pk)
    resend_delivery(delivery=delivery, resent_by=request.user)
    messages.success(request, _("Delivery queued again."))
    return redirect("pipeline:webhook_deliveries", pk=endpoint.pk)
