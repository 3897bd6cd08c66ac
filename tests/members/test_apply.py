"""The public application link: applicants fill in the questionnaire themselves."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from members import services
from members.models import Application, ApplicationStatus, QuestionKind
from members.views.apply import SUBMISSIONS_PER_WINDOW
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reading(org_a):
    community = CommunityFactory(
        organization=org_a, name="周末读书会 <script>x</script>", slug="reading", platform="wechat"
    )
    services.question_create(
        community=community, kind=QuestionKind.CHOICE, prompt="你从哪里知道我们？",
        choices=["朋友", "公众号"], tag_kind="",
    )  # fmt: skip
    services.question_create(
        community=community,
        kind=QuestionKind.TEXT,
        prompt="最近在读什么？",
        choices=[],
        tag_kind="",
    )
    return community


@pytest.fixture
def link(reading):
    return services.application_link_get(community=reading)


def url(link) -> str:
    return reverse("members:apply", args=[link.key])


def answers(reading, **extra) -> dict:
    first, second = reading.questions.order_by("position")
    return {
        "display_name": "小王",
        "external_id": "wxid_xiaowang",
        f"answer_{first.pk}": "朋友",
        f"answer_{second.pk}": "《置身事内》",
        **extra,
    }


def test_an_anonymous_applicant_applies_and_waits_in_the_queue(reading, link):
    page = Client().get(url(link))
    assert page.status_code == 200
    html = page.content.decode()
    assert "你从哪里知道我们？" in html and "最近在读什么？" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x</script>" not in html
    # Nothing about the organisation or its other pages.
    assert reading.organization.name not in html
    assert f'href="{reverse("members:list")}"' not in html
    response = Client().post(url(link), answers(reading))
    assert response.status_code == 302
    assert response["Location"] == reverse("members:apply-thanks", args=[link.key])
    application = Application.objects.get()
    assert application.community == reading
    assert application.status == ApplicationStatus.PENDING
    assert (application.display_name, application.platform, application.external_id) == (
        "小王",
        "wechat",
        "wxid_xiaowang",
    )
    assert "朋友" in application.answers.values()
    assert "Thank you" in Client().get(response["Location"]).content.decode()


def test_bad_answers_are_refused_and_nothing_is_written(reading, link):
    first = reading.questions.order_by("position").first()
    response = Client().post(url(link), answers(reading, **{f"answer_{first.pk}": "别的"}))
    assert response.status_code == 400
    response = Client().post(url(link), answers(reading, display_name=""))
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert Application.objects.count() == 0


def test_a_robot_filling_the_honeypot_is_thanked_and_nothing_is_written(reading, link):
    response = Client().post(url(link), answers(reading, website="http://spam.example"))
    assert response.status_code == 302
    assert Application.objects.count() == 0


def test_submissions_are_rate_limited(reading, link):
    cache.clear()
    client = Client()
    for n in range(SUBMISSIONS_PER_WINDOW):
        assert client.post(url(link), answers(reading, external_id=f"wx{n}")).status_code == 302
    refused = client.post(url(link), answers(reading, external_id="wx-extra"))
    assert refused.status_code == 429
    assert "Too many applications" in refused.content.decode()
    assert Application.objects.count() == SUBMISSIONS_PER_WINDOW


def test_csrf_applies(reading, link):
    client = Client(enforce_csrf_checks=True)
    assert client.post(url(link), answers(reading)).status_code == 403
    assert Application.objects.count() == 0


def test_unknown_renewed_closed_and_archived_links(reading, link, client_for, operator_a):
    assert Client().get(reverse("members:apply", args=["nope"])).status_code == 404
    old = link.key
    staff = client_for(operator_a)
    change = reverse("members:application-link", args=[reading.slug])
    staff.post(change, {"action": "renew"})
    assert Client().get(reverse("members:apply", args=[old])).status_code == 404
    link.refresh_from_db()
    assert link.key != old
    staff.post(change, {"action": "close"})
    closed = Client().get(url(link))
    assert "takes no applications" in closed.content.decode()
    assert Client().post(url(link), answers(reading)).status_code == 200
    assert Application.objects.count() == 0
    staff.post(change, {"action": "open"})
    reading.archived = True
    reading.save()
    assert Client().get(url(link)).status_code == 404


def test_staff_see_the_link_and_its_qr_code(reading, client_for, operator_a, manager_a):
    page = client_for(operator_a).get(reverse("members:questions", args=[reading.slug]))
    link = reading.application_link
    html = page.content.decode()
    assert f"http://testserver/members/apply/{link.key}/" in html
    png = client_for(operator_a).get(
        reverse("members:application-qr", args=[reading.slug, "png"]), {"download": 1}
    )
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert 'filename="reading-apply.png"' in png["Content-Disposition"]
    svg = client_for(operator_a).get(reverse("members:application-qr", args=[reading.slug, "svg"]))
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert (
        client_for(operator_a)
        .get(reverse("members:application-qr", args=[reading.slug, "gif"]))
        .status_code
        == 404
    )
    # Changing the link is for those who manage the community.
    change = reverse("members:application-link", args=[reading.slug])
    assert client_for(manager_a).post(change, {"action": "renew"}).status_code == 403


def test_another_organisations_community_is_a_404(client_for, operator_a, org_b):
    other = CommunityFactory(organization=org_b, slug="theirs")
    for name, args in [
        ("members:application-qr", [other.slug, "png"]),
        ("members:application-link", [other.slug]),
    ]:
        response = client_for(operator_a).post(reverse(name, args=args), {"action": "renew"})
        assert response.status_code in (404, 405)
