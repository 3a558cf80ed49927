from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0007_referral_milestones"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(fields=["department", "sent_at"], name="referral_department_sent"),
        ),
    ]
