import pytest
from django.urls import reverse

from members import services
from members.models import (
    Application,
    ApplicationQuestion,
    ApplicationStatus,
    Membership,
    MembershipStatus,
    QuestionKind,
    TagKind,
)
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert(1)</script>" hx-get="/evil'
QUEUE = reverse("members:applications")


def questions_url(community):
    return reverse("members:questions", args=[community.slug])


def create_url(community):
    return reverse("members:application-create", args=[community.slug])


def approve_url(application):
    return reverse("members:application-approve", args=[application.pk])


def reject_url(application):
    return reverse("members:application-reject", args=[application.pk])


@pytest.fixture
def questionnaire(community_a):
    why = services.question_create(
        community=community_a, kind=QuestionKind.TEXT, prompt="为什么想加入？"
    )
    city = services.question_create(
        community=community_a,
        kind=QuestionKind.CHOICE,
        prompt="所在城市",
        choices=["上海", "北京", "深圳"],
        tag_kind=TagKind.REGION,
    )
    topics = services.question_create(
        community=community_a,
        kind=QuestionKind.MULTIPLE,
        prompt="感兴趣的话题",
        choices=["小说", "历史", "科普"],
        tag_kind=TagKind.INTEREST,
    )
    return why, city, topics


def submit(community, questionnaire, name="小林", external_id="wxid_lin", **overrides):
    why, city, topics = questionnaire
    answers = {str(why.pk): "想多读书", str(city.pk): "上海", str(topics.pk): ["小说", "科普"]}
    answers.update(overrides)
    return services.application_submit(
        community=community,
        display_name=name,
        platform="wechat",
        external_id=external_id,
        answers=answers,
    )


# --- Questionnaire -----------------------------------------------------------------------


def test_operator_defines_the_questionnaire(client_for, operator_a, community_a):
    client = client_for(operator_a)
    assert client.get(questions_url(community_a)).status_code == 200

    response = client.post(
        questions_url(community_a), {"kind": "text", "prompt": "为什么想加入？", "choices": "忽略"}
    )
    assert response.status_code == 302
    client.post(
        questions_url(community_a),
        {
            "kind": "choice",
            "prompt": "所在城市",
            "choices": "上海\n 北京 \n\n深圳",
            "tag_kind": "region",
        },
    )
    client.post(
        questions_url(community_a),
        {"kind": "multiple", "prompt": "感兴趣的话题", "choices": "小说\r\n历史"},
    )

    questions = list(community_a.questions.all())
    assert [(q.kind, q.prompt, q.choices, q.tag_kind) for q in questions] == [
        ("text", "为什么想加入？", [], ""),
        ("choice", "所在城市", ["上海", "北京", "深圳"], "region"),
        ("multiple", "感兴趣的话题", ["小说", "历史"], ""),
    ]
    assert [q.position for q in questions] == [0, 1, 2]
    html = client.get(questions_url(community_a)).content.decode()
    assert "所在城市" in html and "上海、北京、深圳" in html


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"kind": "choice", "prompt": "城市", "choices": "上海"}, "at least two choices"),
        ({"kind": "multiple", "prompt": "话题", "choices": "小说\n小说"}, "Each choice must be"),
        ({"kind": "choice", "prompt": "", "choices": "a\nb"}, "This field is required"),
        (
            {
                "kind": "choice",
                "prompt": "行业",
                "choices": f"{'长' * 61}\n短",
                "tag_kind": "industry",
            },
            "at most 60 characters",
        ),
    ],
)
def test_a_bad_question_is_explained_and_not_saved(
    data, error, client_for, operator_a, community_a
):
    response = client_for(operator_a).post(questions_url(community_a), data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not community_a.questions.exists()


def test_delete_and_reorder_questions(client_for, operator_a, community_a, questionnaire):
    why, _city, topics = questionnaire
    client = client_for(operator_a)
    client.post(questions_url(community_a), {"action": "up", "question": topics.pk})
    assert list(community_a.questions.values_list("prompt", flat=True)) == [
        "为什么想加入？",
        "感兴趣的话题",
        "所在城市",
    ]
    client.post(questions_url(community_a), {"action": "delete", "question": why.pk})
    assert list(community_a.questions.values_list("prompt", "position")) == [
        ("感兴趣的话题", 0),
        ("所在城市", 1),
    ]
    # A new question goes last, after the renumbered ones.
    client.post(questions_url(community_a), {"kind": "text", "prompt": "职业"})
    assert community_a.questions.last().prompt == "职业"


def test_only_the_communitys_own_questions_can_be_deleted(
    client_for, operator_a, org_a, community_a
):
    other = CommunityFactory(organization=org_a, slug="other")
    foreign = services.question_create(
        community=other, kind=QuestionKind.TEXT, prompt="别的群的问题"
    )
    response = client_for(operator_a).post(
        questions_url(community_a), {"action": "delete", "question": foreign.pk}
    )
    assert response.status_code == 302
    assert ApplicationQuestion.objects.filter(pk=foreign.pk).exists()


@pytest.mark.parametrize("role", ["manager_a", "moderator_a"])
def test_only_owners_and_operators_edit_the_questionnaire(role, request, client_for, community_a):
    staff = request.getfixturevalue(role)
    staff.communities.add(community_a)
    client = client_for(staff)
    assert client.get(questions_url(community_a)).status_code == 403
    assert (
        client.post(questions_url(community_a), {"kind": "text", "prompt": "?"}).status_code == 403
    )
    assert not community_a.questions.exists()


# --- Recording an application ------------------------------------------------------------


def test_the_form_asks_each_question_with_a_fitting_widget(
    client_for, operator_a, community_a, questionnaire
):
    why, city, topics = questionnaire
    html = client_for(operator_a).get(create_url(community_a)).content.decode()
    assert f'<textarea name="answer_{why.pk}"' in html
    assert f'type="radio" name="answer_{city.pk}" value="北京"' in html
    assert f'type="checkbox" name="answer_{topics.pk}" value="历史"' in html


def test_recording_an_application_with_each_kind_of_question(
    client_for, operator_a, community_a, questionnaire
):
    why, city, topics = questionnaire
    response = client_for(operator_a).post(
        create_url(community_a),
        {
            "display_name": " 小林 ",
            "platform": "telegram",
            "external_id": "lin_42",
            f"answer_{why.pk}": "想多读书",
            f"answer_{city.pk}": "北京",
            f"answer_{topics.pk}": ["小说", "科普"],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE}?community={community_a.slug}"
    application = Application.objects.get()
    assert application.community == community_a
    assert (application.display_name, application.platform, application.external_id) == (
        "小林",
        "telegram",
        "lin_42",
    )
    assert application.status == ApplicationStatus.PENDING
    assert application.answers == {
        str(why.pk): "想多读书",
        str(city.pk): "北京",
        str(topics.pk): ["小说", "科普"],
    }


def test_missing_answers_are_explained_on_their_questions_and_nothing_is_written(
    client_for, operator_a, community_a, questionnaire
):
    response = client_for(operator_a).post(
        create_url(community_a),
        {"display_name": "小林", "platform": "wechat", "external_id": "wxid_lin"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    why, city, topics = questionnaire
    assert form.errors == {
        f"answer_{why.pk}": ["This question needs an answer."],
        f"answer_{city.pk}": ["Choose one of the listed answers."],
        f"answer_{topics.pk}": ["Choose one or more of the listed answers."],
    }
    assert "This question needs an answer." in response.content.decode()
    assert not Application.objects.exists()


def test_an_answer_outside_the_choices_is_refused(
    client_for, operator_a, community_a, questionnaire
):
    why, city, topics = questionnaire
    response = client_for(operator_a).post(
        create_url(community_a),
        {
            "display_name": "",
            "platform": "wechat",
            "external_id": "wxid_lin",
            f"answer_{why.pk}": "想多读书",
            f"answer_{city.pk}": "火星",
            f"answer_{topics.pk}": ["小说", "赌博"],
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"display_name", f"answer_{city.pk}", f"answer_{topics.pk}"}
    assert "火星" in errors[f"answer_{city.pk}"][0]
    assert not Application.objects.exists()


def test_moderators_record_applications_for_their_own_communities(
    client_for, moderator_a, manager_a, org_a, community_a, questionnaire
):
    not_mine = CommunityFactory(organization=org_a, slug="not-mine")
    moderator_a.communities.add(community_a)
    client = client_for(moderator_a)
    assert client.get(create_url(community_a)).status_code == 200
    assert client.get(create_url(not_mine)).status_code == 404
    response = client.post(
        create_url(community_a),
        {"display_name": "小林", "platform": "wechat", "external_id": "wxid_lin",
         f"answer_{questionnaire[0].pk}": "想多读书", f"answer_{questionnaire[1].pk}": "上海",
         f"answer_{questionnaire[2].pk}": "历史"},
    )  # fmt: skip
    assert response.status_code == 302
    assert Application.objects.filter(community=community_a).count() == 1
    # Managers read; they do not record.
    assert client_for(manager_a).get(create_url(community_a)).status_code == 403


# --- Review queue ------------------------------------------------------------------------


def test_queue_lists_pending_applications_with_their_answers(
    client_for, manager_a, community_a, questionnaire
):
    submit(community_a, questionnaire)
    decided = submit(community_a, questionnaire, name="老王", external_id="wxid_wang")
    services.application_reject(application=decided, by=None, reason="营销号")
    response = client_for(manager_a).get(QUEUE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "小林" in html and "老王" not in html
    assert "<dt>所在城市</dt><dd>上海</dd>" in html
    assert "<dt>感兴趣的话题</dt><dd>小说、科普</dd>" in html
    # Managers read the queue but cannot decide.
    assert approve_url(Application.objects.get(display_name="小林")) not in html

    rejected = client_for(manager_a).get(QUEUE, {"status": "rejected"}).content.decode()
    assert "老王" in rejected and "营销号" in rejected and "小林" not in rejected


def test_queue_filters_by_community(client_for, operator_a, org_a, community_a, questionnaire):
    other = CommunityFactory(organization=org_a, name="跑步群", slug="running")
    submit(community_a, questionnaire)
    services.application_submit(
        community=other, display_name="跑者", platform="qq", external_id="10001", answers={}
    )
    client = client_for(operator_a)
    html = client.get(QUEUE, {"community": "running"}).content.decode()
    assert "跑者" in html and "小林" not in html
    assert create_url(other) in html and questions_url(other) in html

    htmx = client.get(QUEUE, {"community": "reading"}, HTTP_HX_REQUEST="true")
    fragment = htmx.content.decode()
    assert fragment.lstrip().startswith('<div id="queue">')
    assert "<nav" not in fragment
    assert "小林" in fragment and "跑者" not in fragment


def test_answers_to_a_removed_question_stay_visible(
    client_for, operator_a, community_a, questionnaire
):
    submit(community_a, questionnaire)
    services.question_delete(question=questionnaire[0])
    html = client_for(operator_a).get(QUEUE).content.decode()
    assert "<dt>(removed question)</dt><dd>想多读书</dd>" in html


def test_approving_through_htmx_swaps_the_row_and_admits_the_member(
    client_for, operator_a, community_a, questionnaire
):
    application = submit(community_a, questionnaire)
    response = client_for(operator_a).post(approve_url(application), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<article id="application-{application.pk}"')
    assert "<nav" not in html and "<html" not in html
    assert "Approved" in html and approve_url(application) not in html
    assert "“小林” is now a member of 读书会." in html

    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.reviewed_by == operator_a.user
    membership = Membership.objects.get(community=community_a)
    assert application.membership == membership
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.member.display_name == "小林"
    assert sorted((t.kind, t.name) for t in membership.member.tags.all()) == [
        ("interest", "小说"),
        ("interest", "科普"),
        ("region", "上海"),
    ]
    # The message was shown in the row; it does not turn up again on the next page.
    assert "is now a member" not in client_for(operator_a).get(QUEUE).content.decode()


def test_approving_without_javascript_goes_back_to_the_queue(
    client_for, operator_a, community_a, questionnaire
):
    application = submit(community_a, questionnaire)
    client = client_for(operator_a)
    back = f"{QUEUE}?community={community_a.slug}"
    response = client.post(approve_url(application), {"next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    assert "“小林” is now a member of 读书会." in client.get(back).content.decode()
    assert Membership.objects.filter(community=community_a).exists()


def test_the_way_back_never_leaves_the_site(client_for, operator_a, community_a, questionnaire):
    application = submit(community_a, questionnaire)
    response = client_for(operator_a).post(
        approve_url(application), {"next": "https://evil.example/"}
    )
    assert response["Location"] == QUEUE


def test_rejecting_needs_a_reason(client_for, operator_a, community_a, questionnaire):
    application = submit(community_a, questionnaire)
    client = client_for(operator_a)

    response = client.post(reject_url(application), {"reason": "  "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Say why the application is rejected." in response.content.decode()
    assert reject_url(application) in response.content.decode()  # the form is still there
    response = client.post(reject_url(application), {"reason": ""})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING

    response = client.post(reject_url(application), {"reason": "营销号"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<nav" not in html and "Rejected" in html and "营销号" in html
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert application.decision_note == "营销号"
    assert application.reviewed_by == operator_a.user
    assert not Membership.objects.exists()


def test_an_application_is_decided_only_once(client_for, operator_a, community_a, questionnaire):
    application = submit(community_a, questionnaire)
    client = client_for(operator_a)
    client.post(reject_url(application), {"reason": "营销号"})
    response = client.post(approve_url(application), HTTP_HX_REQUEST="true")
    assert "already been decided" in response.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert not Membership.objects.exists()


def test_moderator_sees_only_assigned_communities_and_cannot_decide(
    client_for, moderator_a, org_a, community_a, questionnaire
):
    not_mine = CommunityFactory(organization=org_a, name="别人的群", slug="not-mine")
    moderator_a.communities.add(community_a)
    mine = submit(community_a, questionnaire)
    theirs = services.application_submit(
        community=not_mine, display_name="别人的申请人", platform="qq", external_id="1", answers={}
    )
    client = client_for(moderator_a)
    html = client.get(QUEUE).content.decode()
    assert "小林" in html and "别人的申请人" not in html and "别人的群" not in html
    assert approve_url(mine) not in html

    assert client.post(approve_url(mine)).status_code == 403
    assert client.post(reject_url(mine), {"reason": "不合适"}).status_code == 403
    assert client.post(approve_url(theirs)).status_code == 404
    for application in (mine, theirs):
        application.refresh_from_db()
        assert application.status == ApplicationStatus.PENDING
    assert not Membership.objects.exists()


@pytest.mark.parametrize("role", ["owner_a", "operator_a"])
def test_another_organisations_application_is_a_404(role, request, client_for, community_b):
    application = services.application_submit(
        community=community_b, display_name="乙的申请人", platform="qq", external_id="1", answers={}
    )
    client = client_for(request.getfixturevalue(role))
    assert client.post(approve_url(application), HTTP_HX_REQUEST="true").status_code == 404
    assert client.post(reject_url(application), {"reason": "x"}).status_code == 404
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING
    assert not Membership.objects.exists()


def test_hostile_names_and_answers_render_inert(client_for, operator_a, community_a):
    question = services.question_create(
        community=community_a, kind=QuestionKind.TEXT, prompt=HOSTILE
    )
    application = services.application_submit(
        community=community_a,
        display_name=HOSTILE,
        platform="wechat",
        external_id=HOSTILE,
        answers={str(question.pk): HOSTILE},
    )
    client = client_for(operator_a)
    pages = [
        client.get(QUEUE).content.decode(),
        client.get(questions_url(community_a)).content.decode(),
        client.get(create_url(community_a)).content.decode(),
        client.post(
            reject_url(application), {"reason": HOSTILE}, HTTP_HX_REQUEST="true"
        ).content.decode(),
    ]
    for html in pages:
        assert "<script>alert" not in html
        assert 'hx-get="/evil' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot; hx-get=&quot;/evil" in pages[0]
    assert pages[0].count("&lt;script&gt;") >= 3  # name, platform id, answer and question


@pytest.mark.parametrize("count", [3, 30])
def test_queue_query_count_is_constant(
    count, client_for, operator_a, org_a, community_a, questionnaire, django_assert_num_queries
):
    other = CommunityFactory(organization=org_a, slug="other")
    services.question_create(community=other, kind=QuestionKind.TEXT, prompt="职业")
    for i in range(count):
        if i % 2:
            services.application_submit(
                community=other,
                display_name=f"申请人{i}",
                platform="qq",
                external_id=str(i),
                answers={str(other.questions.get().pk): "老师"},
            )
        else:
            submit(community_a, questionnaire, name=f"申请人{i}", external_id=f"wxid_{i}")
    client = client_for(operator_a)
    # session, user, staff + organisation, communities, applications, their questions
    with django_assert_num_queries(6):
        response = client.get(QUEUE)
    html = response.content.decode()
    assert html.count('<article id="application-') == count
    assert html.count("<dt>所在城市</dt>") == (count + 1) // 2
    assert html.count("<dt>职业</dt>") == count // 2
