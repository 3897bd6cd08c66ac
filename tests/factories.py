import factory
from django.contrib.auth import get_user_model

from communities.models import Community, Organization, Platform, Role, Staff
from communities.services import community_create
from members.models import Member, Membership


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OPERATOR


class CommunityFactory(factory.django.DjangoModelFactory):
    """A community made the production way (``community_create``): with its tier ladder."""

    class Meta:
        model = Community

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Community {n}")
    slug = factory.Sequence(lambda n: f"community-{n}")
    platform = Platform.WECHAT

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return community_create(*args, **kwargs)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    organization = factory.SubFactory(OrganizationFactory)
    display_name = factory.Sequence(lambda n: f"成员{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    """A member in a community, on the bottom tier of its ladder."""

    class Meta:
        model = Membership

    community = factory.SubFactory(CommunityFactory)
    member = factory.SubFactory(
        MemberFactory, organization=factory.SelfAttribute("..community.organization")
    )
    tier = factory.LazyAttribute(lambda m: m.community.tiers.order_by("rank").first())
