"""Django admin, for superusers only (platform operators, not tenants' staff)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from communities import services
from communities.models import Community, Organization, Staff, User

admin.site.register(User, UserAdmin)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["role", "organization"]
    autocomplete_fields = ["user", "communities"]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "platform", "archived"]
    list_filter = ["platform", "archived", "organization"]
    search_fields = ["name", "slug"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:  # a community added here gets what community_create gives
            services.community_set_up(community=obj)
