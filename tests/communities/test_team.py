"""Staff in the browser: invitations, accounts, roles, assigned communities, deactivation, the
staff log. Through the URLs and the services, with time driven by a fixed ``now``."""

import contextlib
import re
import threading
import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from communities import team
from communities.models import Invitation, Role, Staff, StaffAction, StaffLogEntry
from communities.services import staff_log_record
from communities.tokens import api_token_create
from tests.factories import CommunityFactory, OrganizationFactory, StaffFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual passphrase 42"
LINK = re.compile(r"https?://\S+/accounts/invitation/(inv_[\w-]+)/")


def invite(client, community=None, **data):
    data = {"email": "new@example.com", "role": Role.MODERATOR, "language": "en", **data}
    if community is not None:
        data["communities"] = [community.pk]
    response = client.post(reverse("team:invite"), data)
    assert response.status_code == 200, response.content.decode()
    return LINK.search(response.content.decode()).group(1)


def accept(client, token, username="newbie", password=PASSWORD):
    return client.post(
        reverse("invitation-accept", args=[token]),
        {"username": username, "password1": password, "password2": password},
    )


# --- Invitations -----------------------------------------------------------------------


def test_an_invitation_mails_a_link_that_works_once(client_for, owner_a, community_a):
    client = client_for(owner_a)
    token = invite(client, community_a)
    assert len(mail.outbox) == 1
    assert token in mail.outbox[0].body
    assert Invitation.objects.get().digest != token  # only the digest is stored
    assert token not in str(list(Invitation.objects.values()))

    client.logout()
    page = client.get(reverse("invitation-accept", args=[token]))
    assert page.status_code == 200
    assert "new@example.com" in page.content.decode()
    assert owner_a.organization.name in page.content.decode()

    response = accept(client, token)
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newbie")
    assert user.email == "new@example.com"
    staff = Staff.objects.get(user=user)
    assert (staff.organization, staff.role) == (owner_a.organization, Role.MODERATOR)
    assert list(staff.communities.all()) == [community_a]
    # Signed in, and sees the assigned community.
    assert client.get(reverse("communities:detail", args=[community_a.slug])).status_code == 200

    client.logout()
    again = accept(client, token, username="second")
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    assert not get_user_model().objects.filter(username="second").exists()
    actions = set(StaffLogEntry.objects.values_list("action", flat=True))
    assert {StaffAction.INVITED, StaffAction.INVITATION_ACCEPTED} <= actions


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_acceptances_of_one_link_make_one_account(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.fail("Needs PostgreSQL (make test-postgres)")
    owner = StaffFactory(role=Role.OWNER)
    _, token = team.invitation_create(
        organization=owner.organization, invited_by=owner.user, email="race@example.com",
        role=Role.OPERATOR, language="en",
    )  # fmt: skip
    # Each submission, once it has found the link usable, waits for the other to find it
    # too: without the lock on the invitation both would go on and make an account each.
    both_found = threading.Barrier(2, timeout=3)
    lookup = team.invitation_for_token

    def lookup_when_both_found(value):
        found = lookup(value)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_found.wait()
        return found

    monkeypatch.setattr(team, "invitation_for_token", lookup_when_both_found)
    statuses = []

    def submit(username):
        try:
            statuses.append(accept(Client(), token, username=username).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [302, 400]
    assert get_user_model().objects.filter(email="race@example.com").count() == 1
    assert StaffLogEntry.objects.filter(action=StaffAction.INVITATION_ACCEPTED).count() == 1


def test_an_invitation_expires(client, owner_a):
    start = timezone.now()
    invitation, token = team.invitation_create(
        organization=owner_a.organization,
        invited_by=owner_a.user,
        email="late@example.com",
        role=Role.MANAGER,
        language="en",
        now=start,
    )
    assert invitation.expires_at == start + timedelta(days=settings.INVITATION_DAYS)
    just_before = start + timedelta(days=settings.INVITATION_DAYS) - timedelta(seconds=1)
    assert team.invitation_problem(team.invitation_for_token(token), just_before) == ""
    after = start + timedelta(days=settings.INVITATION_DAYS)
    with pytest.raises(ValidationError, match="expired"):
        team.invitation_accept(token=token, username="late", password=PASSWORD, now=after)

    # Through the URL, once the clock has passed it: a page that says so, no account.
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    response = accept(client, token, username="late")
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not get_user_model().objects.filter(username="late").exists()


def test_an_invitation_is_bound_to_its_email_and_organisation(client_for, owner_a, org_b):
    other_community = CommunityFactory(organization=org_b, slug="b-group")
    client = client_for(owner_a)
    # Another organisation's community is not a choice.
    response = client.post(
        reverse("team:invite"),
        {"email": "x@example.com", "role": Role.MODERATOR, "language": "en",
         "communities": [other_community.pk]},
    )  # fmt: skip
    assert response.status_code == 400
    assert not Invitation.objects.exists()

    token = invite(client)
    client.logout()
    # The e-mail is the invitation's, whatever the form sends.
    response = client.post(
        reverse("invitation-accept", args=[token]),
        {"username": "bound", "password1": PASSWORD, "password2": PASSWORD,
         "email": "attacker@example.com", "organization": org_b.pk},
    )  # fmt: skip
    assert response.status_code == 302
    user = get_user_model().objects.get(username="bound")
    assert user.email == "new@example.com"
    assert list(Staff.objects.filter(user=user).values_list("organization", flat=True)) == [
        owner_a.organization_id
    ]


def test_a_revoked_or_resent_link_no_longer_works(client_for, owner_a):
    client = client_for(owner_a)
    first = invite(client)
    invitation = Invitation.objects.get()
    response = client.post(reverse("team:invitation-resend", args=[invitation.pk]))
    second = LINK.search(response.content.decode()).group(1)
    assert second != first
    assert len(mail.outbox) == 2 and second in mail.outbox[1].body

    client.logout()
    assert accept(client, first, username="old-link").status_code == 404
    client.force_login(owner_a.user)
    client.post(reverse("team:invitation-revoke", args=[invitation.pk]))
    client.logout()
    response = accept(client, second, username="revoked")
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    assert not get_user_model().objects.filter(username__in=["old-link", "revoked"]).exists()
    assert StaffLogEntry.objects.filter(action=StaffAction.INVITATION_REVOKED).count() == 1


def test_an_unknown_link_says_so(client):
    for token in ["inv_nothing", "x" * 5000, "garbage"]:
        response = client.get(reverse("invitation-accept", args=[token]))
        assert response.status_code == 404
        assert "not valid" in response.content.decode()


def test_accepting_checks_the_password_and_user_name(client, owner_a, moderator_a):
    _, token = team.invitation_create(
        organization=owner_a.organization, invited_by=owner_a.user, email="p@example.com",
        role=Role.OPERATOR, language="en",
    )  # fmt: skip
    assert accept(client, token, password="123").status_code == 400  # Django's validators
    taken = accept(client, token, username=moderator_a.user.username)
    assert taken.status_code == 400
    assert "already exists" in taken.content.decode()
    assert accept(client, token, username="fine").status_code == 302


def test_the_mail_is_in_the_invitations_language(client_for, owner_a):
    client = client_for(owner_a)
    invite(client, email="zh@example.com", role=Role.OPERATOR, language="zh-hans")
    invite(client, email="en@example.com", role=Role.OPERATOR, language="en")
    chinese, english = mail.outbox
    assert chinese.to == ["zh@example.com"]
    assert "邀请" in chinese.subject and "运营" in chinese.body
    assert "invited" in english.subject and "Operator" in english.body
    assert "邀请" not in english.subject + english.body


def test_the_mail_gives_the_expiry_in_the_organisations_time_zone(owner_a):
    owner_a.organization.time_zone = "Europe/London"
    owner_a.organization.save()
    now = datetime(2026, 12, 1, 23, 30, tzinfo=timezone.get_current_timezone())  # Shanghai
    invitation, _ = team.invitation_create(
        organization=owner_a.organization, invited_by=owner_a.user, email="l@example.com",
        role=Role.MANAGER, language="en", now=now,
    )  # fmt: skip
    team.invitation_send(invitation=invitation, link="http://testserver/x")
    expected = (now + timedelta(days=settings.INVITATION_DAYS)).astimezone(
        zoneinfo.ZoneInfo("Europe/London")
    )
    assert f"{expected:%Y-%m-%d %H:%M} GMT" in mail.outbox[0].body


def test_the_staff_page_in_pinned_queries(client_for, owner_a, org_a, django_assert_num_queries):
    client = client_for(owner_a)
    client.get(reverse("team:staff"))

    def grow():
        community = CommunityFactory(organization=org_a)
        moderator = StaffFactory(organization=org_a, role=Role.MODERATOR)
        moderator.communities.add(community)
        team.invitation_create(
            organization=org_a, invited_by=owner_a.user, email=f"{community.slug}@example.com",
            role=Role.MODERATOR, language="en", communities=[community],
        )  # fmt: skip

    grow()
    with django_assert_num_queries(10) as captured:
        client.get(reverse("team:staff"))
    grow()
    grow()
    with django_assert_num_queries(len(captured)):
        page = client.get(reverse("team:staff"))
    assert page.content.decode().count("data-staff=") == 4


def test_accept_page_in_chinese(client, owner_a):
    _, token = team.invitation_create(
        organization=owner_a.organization, invited_by=owner_a.user, email="c@example.com",
        role=Role.MODERATOR, language="zh-hans",
    )  # fmt: skip
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("invitation-accept", args=[token])).content.decode()
    assert "邀请" in html and "用户名" in html
    html = client.get(reverse("invitation-accept", args=["inv_nothing"])).content.decode()
    assert "邀请链接无效" in html


# --- Accounts with a temporary password ------------------------------------------------


def test_a_temporary_password_must_be_changed_first(client, client_for, owner_a, community_a):
    owner = client_for(owner_a)
    response = owner.post(
        reverse("team:account-create"),
        {"username": "temp", "email": "t@example.com", "role": Role.MODERATOR,
         "password": PASSWORD, "communities": [community_a.pk]},
    )  # fmt: skip
    assert response.status_code == 302
    user = get_user_model().objects.get(username="temp")
    assert user.must_change_password
    assert StaffLogEntry.objects.filter(action=StaffAction.ACCOUNT_CREATED).exists()

    client.logout()
    response = client.post(reverse("login"), {"username": "temp", "password": PASSWORD})
    assert response.status_code == 302
    for url in [reverse("overview"), reverse("communities:detail", args=[community_a.slug])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("password_change")
    new = "another long passphrase 43"
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password
    assert client.get(reverse("communities:detail", args=[community_a.slug])).status_code == 200


# --- Roles, communities, deactivation ---------------------------------------------------


def test_a_role_change_takes_effect_on_the_next_request(client, owner_a, org_a):
    manager = StaffFactory(organization=org_a, role=Role.MANAGER)
    client.force_login(manager.user)
    assert client.get(reverse("communities:create")).status_code == 403

    owner = Client()
    owner.force_login(owner_a.user)
    response = owner.post(reverse("team:role", args=[manager.pk]), {"role": Role.OPERATOR})
    assert response.status_code == 302
    assert client.get(reverse("communities:create")).status_code == 200
    entry = StaffLogEntry.objects.get(action=StaffAction.ROLE_CHANGED)
    assert entry.target_user == manager.user and "Manager → Operator" in entry.detail


def test_a_deactivated_staff_members_session_and_tokens_are_refused(client, owner_a, org_a):
    manager = StaffFactory(organization=org_a, role=Role.MANAGER)
    _, key = api_token_create(staff=manager, name="BI")
    headers = {"authorization": f"Bearer {key}"}
    client.force_login(manager.user)
    assert client.get(reverse("overview")).status_code == 200
    assert client.get(reverse("api:communities"), headers=headers).status_code == 200

    team.staff_deactivate(staff=manager, actor=owner_a.user)
    assert client.get(reverse("overview")).status_code == 403
    assert client.get(reverse("api:communities"), headers=headers).status_code == 401
    assert Staff.objects.filter(pk=manager.pk).exists()  # the record stays

    team.staff_reactivate(staff=manager, actor=owner_a.user)
    assert client.get(reverse("overview")).status_code == 200
    actions = list(StaffLogEntry.objects.values_list("action", flat=True).order_by("pk"))
    assert actions == [StaffAction.DEACTIVATED, StaffAction.REACTIVATED]


def test_the_last_owner_can_be_neither_deactivated_nor_demoted(client_for, owner_a, org_a):
    client = client_for(owner_a)
    for url, data in [
        (reverse("team:deactivate", args=[owner_a.pk]), {}),
        (reverse("team:role", args=[owner_a.pk]), {"role": Role.OPERATOR}),
    ]:
        response = client.post(url, data, follow=True)
        assert "last owner" in response.content.decode()
        owner_a.refresh_from_db()
        assert owner_a.role == Role.OWNER and owner_a.deactivated_at is None

    # A deactivated second owner does not count.
    other = StaffFactory(organization=org_a, role=Role.OWNER)
    team.staff_deactivate(staff=other, actor=owner_a.user)
    with pytest.raises(ValidationError):
        team.staff_role_change(staff=owner_a, role=Role.MANAGER, actor=owner_a.user)
    # With an active second owner, either may step down.
    team.staff_reactivate(staff=other, actor=owner_a.user)
    team.staff_role_change(staff=owner_a, role=Role.MANAGER, actor=other.user)
    with pytest.raises(ValidationError):
        team.staff_deactivate(staff=other, actor=other.user)


def test_assigning_communities_from_the_staff_and_community_pages(
    client_for, owner_a, org_a, org_b
):
    moderator = StaffFactory(organization=org_a, role=Role.MODERATOR)
    first = CommunityFactory(organization=org_a, slug="first")
    second = CommunityFactory(organization=org_a, slug="second")
    foreign = CommunityFactory(organization=org_b, slug="foreign")
    client = client_for(owner_a)
    client.post(reverse("team:communities", args=[moderator.pk]), {"communities": [first.pk]})
    assert list(moderator.communities.all()) == [first]
    client.post(reverse("team:communities", args=[moderator.pk]), {"communities": [foreign.pk]})
    assert list(moderator.communities.all()) == [first]

    page = client.get(reverse("communities:detail", args=[second.slug])).content.decode()
    assert "Moderators of this group" in page and moderator.user.username in page
    url = reverse("team:community-moderators", args=[second.slug])
    client.post(url, {"staff": moderator.pk, "assigned": "1"})
    assert set(moderator.communities.all()) == {first, second}
    client.post(url, {"staff": moderator.pk, "assigned": "0"})
    assert list(moderator.communities.all()) == [first]
    assert StaffLogEntry.objects.filter(action=StaffAction.COMMUNITIES_ASSIGNED).count() == 3


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.MANAGER, Role.MODERATOR])
def test_only_owners_manage_staff(client_for, org_a, community_a, role):
    staff = StaffFactory(organization=org_a, role=role)
    client = client_for(staff)
    assert client.get(reverse("team:staff")).status_code == 403
    assert client.get(reverse("team:log")).status_code == 403
    page = client.get(reverse("communities:detail", args=[community_a.slug]))
    assert "Moderators of this group" not in page.content.decode()


# --- The staff log --------------------------------------------------------------------


def test_the_log_filters_and_paginates_in_pinned_queries(
    client_for, owner_a, org_a, django_assert_num_queries
):
    moderator = StaffFactory(organization=org_a, role=Role.MODERATOR)
    other_org = OrganizationFactory(slug="other")
    staff_log_record(organization=other_org, actor=None, action=StaffAction.INVITED)
    for day in range(1, 61):
        entry = staff_log_record(
            organization=org_a,
            actor=owner_a.user,
            action=StaffAction.ROLE_CHANGED if day % 2 else StaffAction.INVITED,
            target_user=moderator.user if day % 3 == 0 else None,
            detail=f"entry {day}",
        )
        at = datetime(2026, 9, 1, 12, tzinfo=timezone.get_current_timezone()) + timedelta(day)
        StaffLogEntry.objects.filter(pk=entry.pk).update(at=at)
    client = client_for(owner_a)
    client.get(reverse("team:log"))  # session and the like, outside the count

    with django_assert_num_queries(6):
        page = client.get(reverse("team:log")).content.decode()
    assert page.index("entry 60") < page.index("entry 59")  # newest first
    assert "entry 10" not in page  # page 2
    with django_assert_num_queries(6):
        page2 = client.get(reverse("team:log"), {"page": 2}).content.decode()
    assert "entry 10" in page2

    filtered = client.get(
        reverse("team:log"), {"action": StaffAction.INVITED, "person": moderator.user.pk}
    ).content.decode()
    assert "entry 6<" in filtered and "entry 3<" not in filtered and "entry 2<" not in filtered

    start, end = date(2026, 9, 10), date(2026, 9, 12)
    dated = client.get(reverse("team:log"), {"start": start, "end": end}).content.decode()
    assert {f"entry {d}<" for d in (9, 10, 11)} == {
        f"entry {d}<" for d in range(1, 61) if f"entry {d}<" in dated
    }
    assert client.get(reverse("team:log"), {"start": "0001-01-01"}).status_code == 400
    assert client.get(reverse("team:log"), {"person": "9" * 30}).status_code == 400


def test_the_log_filter_names_a_date_range_in_chinese(client_for, owner_a):
    # The catalogue's plain "From" / "To" are a tier change's (原等级 / 新等级).
    response = client_for(owner_a).get(
        reverse("team:log"), {"start": "1999-01-01"}, headers={"accept-language": "zh-hans"}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "开始日期" in page and "结束日期" in page
    assert "原等级" not in page and "新等级" not in page
    assert "日期须在 2000-01-01 与 2999-12-31 之间" in page
