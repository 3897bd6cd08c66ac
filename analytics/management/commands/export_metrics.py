"""Print one community's metrics: the same JSON as ``GET /api/v1/communities/<slug>/metrics``.

    manage.py export_metrics --community reading-50 [--organization demo]
        [--from 2026-01-01 --to 2026-03-31] [--interval week] [--format json]
    manage.py export_metrics --community reading-50 --format csv --metric retention

Parameters, defaults and validation are the API's (``analytics.api.parse_metrics_query``)
and the output comes from the same serializer, so the two never disagree.
"""

import csv

from django.core.management.base import BaseCommand, CommandError

from analytics import serializers
from analytics.api import parse_metrics_query
from analytics.metrics import INTERVALS
from communities.models import Community


class Command(BaseCommand):
    help = "Print a community's metrics as JSON (as the API answers) or one section as CSV."

    def add_arguments(self, parser):
        parser.add_argument("--community", required=True, help="The community's slug.")
        parser.add_argument(
            "--organization", help="The organisation's slug (needed if several use the slug)."
        )
        parser.add_argument("--from", dest="from", help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", help="Last day, YYYY-MM-DD (default: the community's today).")
        parser.add_argument("--interval", choices=INTERVALS)
        parser.add_argument("--format", choices=("json", "csv"), default="json")
        parser.add_argument(
            "--metric",
            choices=serializers.CSV_METRICS,
            help="With --format csv: which section to print.",
        )

    def handle(self, *args, **options):
        community = self._community(options["community"], options["organization"])
        query = {name: options[name] for name in ("from", "to", "interval") if options[name]}
        params, errors = parse_metrics_query(query, today=community.local_today())
        if errors:
            raise CommandError("; ".join(errors))
        start, end, interval = params
        if options["format"] == "json":
            data = serializers.community_metrics(
                community=community, start=start, end=end, interval=interval
            )
            self.stdout.write(serializers.to_json(data))
            return
        if not options["metric"]:
            raise CommandError("--format csv needs --metric.")
        section = serializers.metric_section(
            community=community, metric=options["metric"], start=start, end=end, interval=interval
        )
        header, rows = serializers.csv_table(options["metric"], section)
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)

    def _community(self, slug: str, organization: str | None) -> Community:
        matches = Community.objects.filter(slug=slug).select_related("organization")
        if organization:
            matches = matches.filter(organization__slug=organization)
        found = list(matches[:2])
        if not found:
            raise CommandError(f"No community with slug {slug!r}.")
        if len(found) > 1:
            raise CommandError(
                f"Several organisations have a community {slug!r}; add --organization."
            )
        return found[0]
