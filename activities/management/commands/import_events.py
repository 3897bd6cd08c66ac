"""``manage.py import_events --community SLUG [--format FORMAT] PATH``: a chat export from
the command line, through the same service as the Imports page.

Before it exits, the rollups of the days the import touched are refreshed (the steps
higher apps registered in ``activities.hooks``), so ``manage.py export_metrics`` run
right after it reads the new figures. The summary lists what was skipped, by reason."""

import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from activities.importers.base import skipped_labels
from activities.models import ImportFormat
from activities.services import import_file, import_refresh_figures
from communities.models import Community, validate_time_zone


class Command(BaseCommand):
    help = "Import a chat export into a community's activity log (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--community", required=True, help="the community's slug")
        parser.add_argument("--organization", help="the organisation's slug, if slugs repeat")
        parser.add_argument(
            "--format",
            default=ImportFormat.AUTO,
            choices=ImportFormat.values,
            help="the export's format; by default recognised from the file",
        )
        parser.add_argument(
            "--time-zone",
            default="",
            help="zone of times written without one (default: the community's)",
        )
        parser.add_argument("--source", default="", help="chat or channel, for multi-chat exports")
        parser.add_argument("path")

    def handle(self, *args, community, organization, format, source, path, time_zone, **options):
        communities = Community.objects.select_related("organization").filter(slug=community)
        if organization:
            communities = communities.filter(organization__slug=organization)
        found = list(communities[:2])
        if not found:
            raise CommandError(f"No community with the slug “{community}”.")
        if len(found) > 1:
            raise CommandError("Several organisations have this slug; add --organization.")
        try:
            open(path, "rb").close()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from error
        if time_zone:
            try:
                validate_time_zone(time_zone)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
        outcome = import_file(
            community=found[0],
            format=format,
            path=path,
            source_name=source,
            original_name=os.path.basename(path),
            time_zone=time_zone,
        )
        import_refresh_figures(community=found[0], outcome=outcome)
        result = outcome.result
        skipped = sum(outcome.skipped.values())
        self.stdout.write(
            f"format: {outcome.format}\n"
            f"events created: {result.events_created}\n"
            f"duplicates skipped: {result.duplicates_skipped}\n"
            f"members created: {result.members_created}\n"
            f"rows rejected: {outcome.rows_rejected}\n"
            f"rows skipped: {skipped}"
        )
        for label in skipped_labels(outcome.skipped):
            self.stdout.write(f"  {label}")
        if not outcome.ok:
            for problem in outcome.problems:
                where = f"{problem.where}: " if problem.where else ""
                self.stderr.write(f"{where}{problem.message}")
            raise CommandError("Nothing was imported.")
