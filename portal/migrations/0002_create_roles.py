from __future__ import annotations

from django.db import migrations

# Frozen here rather than imported: a migration must keep meaning what it meant.
GROUP_PERMISSIONS = {
    "Support agents": ["work_cases"],
    "Team leads": ["work_cases", "assign_cases", "review_team"],
}
PERMISSION_NAMES = {
    "work_cases": "Can work cases in the support queue",
    "assign_cases": "Can assign cases to any agent",
    "review_team": "Can review the team dashboard",
}


def create_roles(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # Permissions are normally made after all migrations; make them now so the
    # groups can hold them on a fresh database.
    content_type, _ = ContentType.objects.get_or_create(app_label="portal", model="accessright")
    permissions = {
        codename: Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in PERMISSION_NAMES.items()
    }
    for group_name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(*(permissions[c] for c in codenames))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
