from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="erased_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="erased at"
            ),
        ),
    ]
