"""``manage.py organization_create``: an organisation and its owner account, for scripts.

The password is never an argument (it would sit in the shell history and in ``ps``): it
comes from ``COMMUNITYOPS_OWNER_PASSWORD`` or, at a terminal, from a prompt asked twice.
"""

import getpass
import os
import sys

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from communities import services
from communities.models import validate_time_zone

PASSWORD_VARIABLE = "COMMUNITYOPS_OWNER_PASSWORD"  # noqa: S105 (the name, not a password)


class Command(BaseCommand):
    help = (
        "Create an organisation and the account that owns it. The password comes from "
        f"{PASSWORD_VARIABLE} or a prompt, never from the command line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The organisation's name.")
        parser.add_argument("--owner-username", required=True, help="The owner's user name.")
        parser.add_argument("--owner-email", required=True, help="The owner's e-mail address.")
        parser.add_argument(
            "--time-zone", default="Asia/Shanghai", help="Default time zone of new communities."
        )
        parser.add_argument(
            "--currency", default="CNY", help="ISO 4217 code of commitment deposits."
        )
        parser.add_argument(
            "--language",
            default="zh-hans",
            choices=[code for code, _name in settings.LANGUAGES],
            help="Language of e-mails to people whose own language is not known.",
        )

    def handle(self, *args, **options):
        try:
            validate_time_zone(options["time_zone"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        password = self.password()
        try:
            organization = services.organization_create_with_new_owner(
                name=options["name"],
                username=options["owner_username"],
                email=options["owner_email"],
                password=password,
                time_zone=options["time_zone"],
                currency=options["currency"],
                language=options["language"],
            )
        except ValidationError as error:
            lines = [
                f"{'' if name == '__all__' else name + ': '}{message}"
                for name, messages in error.message_dict.items()
                for message in messages
            ]
            raise CommandError("Nothing was created:\n  " + "\n  ".join(lines)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Created organisation “{organization.name}” ({organization.slug}) "
                f"owned by {options['owner_username']}."
            )
        )

    def password(self) -> str:
        password = os.environ.get(PASSWORD_VARIABLE)
        if password:
            return password
        if not sys.stdin.isatty():
            raise CommandError(
                f"No password: set {PASSWORD_VARIABLE}, or run the command at a terminal "
                "to be asked for it."
            )
        first = getpass.getpass("Owner's password: ")
        second = getpass.getpass("Owner's password (again): ")
        if first != second:
            raise CommandError("The two passwords differ; nothing was created.")
        if not first:
            raise CommandError("The password is empty; nothing was created.")
        return first
