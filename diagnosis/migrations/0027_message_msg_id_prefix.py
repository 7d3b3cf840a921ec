from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("diagnosis", "0025_send_details_imports"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="message",
            name="diagnosis_message_msg_id",
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                fields=["msg_id"], name="diagnosis_message_msg_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ),
    ]
